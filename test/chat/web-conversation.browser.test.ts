/**
 * Chat Relay in the browser, both sides at once (issue 14): a visitor in the widget and an operator
 * in the inbox, each in their own Chromium context, against the live relay (two `web` processes,
 * real Redis and FerretDB, the worker for the bot lane). Screenshots of both sides at each step are
 * kept in .data/artifacts/web/.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { Receiver } from '../fakes/receiver.js';
import { asOperator, provisionOperator } from '../support/chat-client.js';
import { provision, signed } from '../support/client.js';
import { eventually } from '../support/harness.js';
import { RECORD_NOTIFICATIONS, inbox, shopPage, shot, startWebWorld, visible, widget, widgetTag, type WebWorld } from '../support/web.js';

const text = (l: { allTextContents: () => Promise<string[]> }) => l.allTextContents().then((t) => t.join(' | '));
const until = (check: () => Promise<boolean>, ms = 15_000) => eventually(async () => (await check()) || null, ms);

async function both(visitor: Page, operator: Page, step: string): Promise<void> {
  await Promise.all([shot(visitor, `conversation-${step}-visitor`), shot(operator, `conversation-${step}-operator`)]);
}

describe('chat in the browser: the widget and the inbox, end to end', function () {
  this.timeout(120_000);
  let w: WebWorld;
  before(async () => {
    w = await startWebWorld('web_conversation');
  });
  after(async () => {
    await w?.stop();
  });

  it('a visitor on the demo page writes, the operator in the inbox takes it and replies (typing, read receipts both ways), then resolves; both sides show every step', async () => {
    const vctx = await w.browser.newContext({ viewport: { width: 1000, height: 760 } });
    const visitorPage = await vctx.newPage();
    visitorPage.on('pageerror', (e) => console.log('[visitor] error', e.message));
    visitorPage.on(
      'response',
      async (r) => r.status() >= 400 && console.log('[visitor]', r.status(), r.url(), await r.text().catch(() => '')),
    );
    await visitorPage.goto(`${w.visitorApi.url}/dev/widget`);
    const v = widget(visitorPage);
    await visible(v.launcher);

    const octx = await w.browser.newContext({ viewport: { width: 1280, height: 760 } });
    await octx.addInitScript({ content: RECORD_NOTIFICATIONS });
    const operatorPage = await octx.newPage();
    operatorPage.on('pageerror', (e) => console.log('[operator] error', e.message));
    await operatorPage.goto(`${w.operatorApi.url}/dev/inbox`);
    const o = inbox(operatorPage);
    await visible(o.host.locator('.who', { hasText: 'Camille (démo)' }));
    assert.equal(new URL(operatorPage.url()).hash, '', 'the token is taken out of the address bar');
    assert.equal(new URL(operatorPage.url()).pathname, '/inbox');
    await visible(o.host.locator('.empty'));
    await both(visitorPage, operatorPage, '1-ready');

    // The visitor opens the widget: the tenant's name and the welcome, in French (the page's lang).
    await v.launcher.click();
    await visible(v.panel);
    assert.equal(await text(v.host.locator('.title')), 'Boutique démo');
    assert.equal(await v.panel.getAttribute('aria-label'), 'Discuter avec Boutique démo');
    assert.match(await text(v.notes), /Bonjour ! Comment pouvons-nous vous aider/);
    await both(visitorPage, operatorPage, '2-open');

    // The visitor writes: the conversation reaches the operator's queue, with a notification and a title badge.
    await v.input.fill('Bonjour, ma commande n’est pas arrivée.');
    await v.input.press('Enter');
    await visible(v.bubbles.filter({ hasText: 'ma commande' }));
    const item = o.item('ma commande');
    await visible(item);
    assert.match(await text(o.queueTab), /File d’attente\s*1/);
    await until(async () => (await operatorPage.title()).startsWith('(1) '));
    const notes = (await operatorPage.evaluate('window.__notifications')) as { title: string; body: string }[];
    assert.equal(notes.length, 1);
    assert.equal(notes[0]?.title, 'Nouvelle conversation');
    await both(visitorPage, operatorPage, '3-queued');

    // The operator opens it and takes it: the visitor sees the agent join, and a read receipt on its message.
    await item.click();
    await visible(o.bubbles.filter({ hasText: 'ma commande' }));
    assert.equal(await operatorPage.title(), 'Bloonio — boîte de réception', 'opening it clears the badge');
    await o.button('Prendre').click();
    await visible(o.status.filter({ hasText: 'Prise en charge' }));
    await visible(v.notes.filter({ hasText: 'Camille (démo) a rejoint la conversation' }));
    await until(async () => (await text(v.metas)).includes('Lu'));
    assert.match(await text(o.mineTab), /Mes conversations\s*1/);
    await both(visitorPage, operatorPage, '4-taken');

    // Typing both ways.
    await o.textarea.pressSequentially('Je regarde', { delay: 20 });
    await visible(v.typing.filter({ hasText: 'Camille (démo) écrit…' }));
    await v.input.pressSequentially('Merci', { delay: 20 });
    await visible(o.typing.filter({ hasText: 'Le visiteur écrit…' }));
    await both(visitorPage, operatorPage, '5-typing');
    await v.input.fill('');

    // The reply reaches the visitor, whose open panel sends a read receipt back.
    await o.textarea.fill('Je regarde tout de suite votre commande.');
    await o.textarea.press('Enter');
    await visible(v.bubbles.filter({ hasText: 'Je regarde tout de suite votre commande.' }));
    assert.match(await text(v.host.locator('.msg.them .who')), /Camille \(démo\)/);
    await visible(o.metas.filter({ hasText: 'Lu par le visiteur' }));
    await both(visitorPage, operatorPage, '6-replied');

    // Released, the conversation goes back to the queue and the visitor sees the agent leave; taken again, come back.
    await o.button('Relâcher').click();
    await visible(v.notes.filter({ hasText: 'Camille (démo) a quitté la conversation' }));
    await visible(o.status.filter({ hasText: 'En attente' }));
    assert.match(await text(o.queueTab), /File d’attente\s*1/);
    await o.button('Prendre').click();
    await visible(o.status.filter({ hasText: 'Prise en charge' }));
    await until(async () => (await v.notes.filter({ hasText: 'a rejoint la conversation' }).count()) === 2);

    // The operator resolves: both sides say so.
    await o.button('Résoudre').click();
    await visible(o.status.filter({ hasText: 'Résolue' }));
    await visible(v.notes.filter({ hasText: 'Conversation résolue' }));
    await both(visitorPage, operatorPage, '7-resolved');
    assert.deepEqual(await v.texts(), ['Bonjour, ma commande n’est pas arrivée.', 'Je regarde tout de suite votre commande.']);
    await Promise.all([vctx.close(), octx.close()]);
  });

  it('reconnect: with the relay process down, the operator writes three messages and the visitor types one; back up, the visitor shows exactly those three, in order, once, and its message is stored once', async () => {
    const SHOP = w.site.origin;
    const creds = await provision(w.relay.baseUrl, {
      allowed_origins: [SHOP],
      branding_display_name: 'Boutique A',
      branding_primary_color: '#7a1fa2',
    });
    const op = await provisionOperator(w.relay.baseUrl, creds, 'ana@shop-a.test');
    const ctx = await w.browser.newContext({ viewport: { width: 900, height: 760 } });
    w.site.page('/reconnect', { html: shopPage(widgetTag(w.visitorApi.url, creds, 'data-mode="human"')) });
    const page = await ctx.newPage();
    await page.goto(`${SHOP}/reconnect`);
    const v = widget(page);
    await v.launcher.click();
    await v.input.fill('avant la coupure');
    await v.input.press('Enter');
    // Acknowledged (numbered) before the operator writes: the conversation is listed as soon as it
    // exists, a moment before its first message takes its number, and on a loaded machine an operator
    // quick enough to reply in that moment is numbered first (a run saw r0 stored before it).
    await visible(v.bubbles.filter({ hasText: 'avant la coupure' }));
    await until(async () => !(await text(v.metas)).match(/En attente|Envoi/));
    const queue = () => asOperator(w.operatorApi.url, op.token, 'GET', '/operator/fetch/queue');
    const cid = await eventually(async () => (await queue()).body.data.conversations[0]?.id as string | undefined);
    assert.equal(
      (await asOperator(w.operatorApi.url, op.token, 'POST', '/operator/take/conversation', { conversation_id: cid })).status,
      200,
    );
    const say = async (t: string) =>
      assert.equal(
        (await asOperator(w.operatorApi.url, op.token, 'POST', '/operator/send/message', { conversation_id: cid, text: t })).status,
        201,
      );
    await say('r0');
    await visible(v.bubbles.filter({ hasText: 'r0' }));

    await w.restartVisitorApi(async () => {
      await visible(v.banner.filter({ hasText: 'Connexion perdue' }));
      await v.input.fill('écrit hors ligne');
      await v.input.press('Enter');
      await visible(v.metas.filter({ hasText: 'En attente de connexion' }));
      await shot(page, 'reconnect-1-offline');
      for (const t of ['un', 'deux', 'trois']) await say(t);
    });
    await visible(v.bubbles.filter({ hasText: 'trois' }), 30_000);
    await until(async () => !(await text(v.metas)).match(/En attente|Envoi/));
    const texts = await v.texts();
    assert.deepEqual(
      texts.filter((t) => ['un', 'deux', 'trois'].includes(t)),
      ['un', 'deux', 'trois'],
      `each missed message once, in order: ${JSON.stringify(texts)}`,
    );
    assert.equal(texts.filter((t) => t === 'écrit hors ligne').length, 1);
    assert.equal(await v.banner.isVisible(), false);
    await shot(page, 'reconnect-2-back');

    const stored = await signed(w.relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${cid}`);
    const storedTexts = stored.body.data.messages.map((m: any) => m.text);
    assert.deepEqual(storedTexts, ['avant la coupure', 'r0', 'un', 'deux', 'trois', 'écrit hors ligne']);

    // A reload resumes the same conversation from storage and shows it once, in the stored order.
    await page.reload();
    await v.launcher.click();
    await until(async () => (await v.bubbles.count()) === storedTexts.length);
    assert.deepEqual(await v.texts(), storedTexts);
    await shot(page, 'reconnect-3-reloaded');
    // Another tab of the same browser: the same session and conversation.
    const tab = await ctx.newPage();
    await tab.goto(`${SHOP}/reconnect`);
    const t2 = widget(tab);
    await t2.launcher.click();
    await until(async () => (await t2.bubbles.count()) === storedTexts.length);
    assert.deepEqual(await t2.texts(), storedTexts);
    await ctx.close();
  });

  it('bot lane and tickets: the bot answers in the widget and escalates; the inbox mounted on the tenant’s own page (CORS) shows only its routing key’s queue, with the ticket', async () => {
    const bot = await new Receiver().start();
    bot.always({ status: 200, body: JSON.stringify({ reply: 'Je suis l’assistant : je vous passe un conseiller.', escalate: true }) });
    await w.relay.startWorker();
    const SHOP = w.site.origin;
    const creds = await provision(w.relay.baseUrl, {
      allowed_origins: [SHOP],
      bot_webhook_url: `${bot.url}/bot`,
      branding_display_name: 'Boutique B',
      branding_primary_color: '#ffd166', // pale: text on it must turn dark to stay readable
    });
    const store1 = await provisionOperator(w.relay.baseUrl, creds, 'store1@shop-b.test', ['store-1']);
    const vctx = await w.browser.newContext({ viewport: { width: 900, height: 760 } });
    w.site.page('/one', { html: shopPage(widgetTag(w.visitorApi.url, creds, 'data-routing-key="store-1"')) });
    w.site.page('/two', { html: shopPage(widgetTag(w.visitorApi.url, creds, 'data-routing-key="store-2"')) });
    const one = await vctx.newPage();
    await one.goto(`${SHOP}/one`);
    const v1 = widget(one);
    await v1.launcher.click();
    await v1.input.fill('Où est mon colis ?');
    await v1.input.press('Enter');
    await visible(v1.bubbles.filter({ hasText: 'je vous passe un conseiller' }));
    assert.match(await text(v1.host.locator('.msg.them .who')), /Assistant/);
    await visible(v1.notes.filter({ hasText: 'Un conseiller va vous répondre' }));
    await shot(one, 'bot-1-visitor-escalated');
    // Another visitor (same tenant, another store), in a browser of its own.
    const v2ctx = await w.browser.newContext();
    const two = await v2ctx.newPage();
    await two.goto(`${SHOP}/two`);
    const v2 = widget(two);
    await v2.launcher.click();
    await v2.input.fill('Question pour le magasin 2');
    await v2.input.press('Enter');
    await visible(v2.bubbles.filter({ hasText: 'je vous passe un conseiller' }));

    // The tenant's own admin page mounts the inbox with a token its backend minted.
    const octx = await w.browser.newContext({ viewport: { width: 1280, height: 760 } });
    w.site.page('/admin', {
      html: `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Admin boutique</title></head><body><main><h1>Support</h1><div id="inbox"></div></main>
<script src="${w.operatorApi.url}/inbox.js"></script>
<script>window.mounted = BloonioInbox.mount(document.getElementById('inbox'), { baseUrl: ${JSON.stringify(w.operatorApi.url)}, token: ${JSON.stringify(store1.token)} });</script>
</body></html>`,
    });
    const admin = await octx.newPage();
    await admin.goto(`${SHOP}/admin`);
    const o = inbox(admin);
    await visible(o.item('je vous passe un conseiller')); // the preview is the conversation's last message
    assert.equal(await o.items.count(), 1, 'only the store-1 queue');
    assert.doesNotMatch(await text(o.items), /magasin 2/);
    assert.match(await text(o.items), /ticket/);
    await o.items.first().click();
    await visible(o.ticket);
    assert.match(await text(o.ticket), /Ticket tkt_\w+ · open · Motif : bot_escalated/);
    await visible(o.bubbles.filter({ hasText: 'je vous passe un conseiller' }));
    assert.deepEqual(await o.texts(), ['Où est mon colis ?', 'Je suis l’assistant : je vous passe un conseiller.']);
    await o.button('Prendre').click();
    await visible(v1.notes.filter({ hasText: 'store1 a rejoint la conversation' }));
    await visible(o.ticket.filter({ hasText: '· assigned ·' })); // the ticket follows the take
    await Promise.all([shot(admin, 'bot-2-operator-ticket'), shot(one, 'bot-3-visitor-joined')]);
    // The pale brand colour: the launcher's icon is dark on it, not white.
    const iconColor = await v1.launcher.evaluate((el) => getComputedStyle(el).color);
    assert.equal(iconColor, 'rgb(17, 17, 17)');
    await Promise.all([vctx.close(), v2ctx.close(), octx.close()]);
    await bot.stop();
  });
});

declare function getComputedStyle(el: unknown): { color: string };
