/**
 * One tenant's chat operators on its console page: the list for every member; for admins and owners a
 * form to add one (or enable a disabled one again, by its email), an inline edit of name, role and
 * routing keys, and disable / enable. Disabling, or changing role or routing keys, revokes the
 * operator's tokens at once (the relay enforces it: api/console/operators.ts).
 */
import { clear, h } from '../shared/dom.js';
import type { App } from './app.js';
import { field, form, input, lines, value } from './forms.js';
import type { StringKey } from './strings.js';

export type Operator = { operator_id: string; email: string; display_name: string; role: string; routing_keys: string[]; status: string };
type Query = { workspace_id: string; tenant_id: string };

const roleSelect = (selected: string) =>
  h(
    'select',
    { name: 'role' },
    ...['agent', 'admin'].map((r) => h('option', { value: r, ...(r === selected ? { selected: true } : {}) }, r)),
  );

/** Name, role and routing keys: the fields of both the add form and the edit form. */
function operatorFields(app: App, o: Partial<Operator>): Node[] {
  return [
    field(app.t('name'), input('display_name', { required: true, maxlength: '120', value: o.display_name ?? '' })),
    field(app.t('role'), roleSelect(o.role ?? 'agent')),
    field(app.t('routingKeys'), h('textarea', { name: 'routing_keys' }, (o.routing_keys ?? []).join('\n')), app.t('routingKeysHint')),
  ];
}

const settingsOf = (f: HTMLFormElement) => ({
  display_name: value(f, 'display_name'),
  role: (f.elements.namedItem('role') as HTMLSelectElement).value,
  routing_keys: lines((f.elements.namedItem('routing_keys') as HTMLTextAreaElement).value),
});

export function operatorsCard(app: App, q: Query, operators: Operator[], admin: boolean, reload: () => Promise<void>): HTMLElement {
  const card = h('div', { class: 'card', 'data-test': 'operators-card' });
  const saved = async (action: () => Promise<unknown>) => {
    await app.run(card, async () => {
      await action();
      app.flash = { text: app.t('operatorSaved'), kind: 'ok' };
      await reload();
    });
  };
  const call = (path: string, body: Record<string, unknown>) => app.api.call('POST', path, { query: q, body });

  const editRow = (o: Operator, row: HTMLElement) => {
    const f = form(
      (el) => saved(() => call('/update/operator', { operator_id: o.operator_id, ...settingsOf(el) })),
      ...operatorFields(app, o),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit' }, app.t('save')),
        h('button', { type: 'button', class: 'secondary', onclick: () => void reload() }, app.t('cancel')),
      ),
    );
    clear(row);
    row.appendChild(h('td', { colspan: '6' }, f));
  };

  const rowOf = (o: Operator) => {
    const row = h(
      'tr',
      { 'data-test': 'operator', 'data-email': o.email },
      h('td', {}, o.display_name),
      h('td', {}, o.email),
      h('td', {}, o.role),
      h('td', {}, o.routing_keys.length ? o.routing_keys.join(', ') : app.t('allQueues')),
      h('td', {}, h('span', { class: `pill ${o.status}` }, app.t(`status_${o.status}` as StringKey) || o.status)),
    );
    if (admin) {
      const enable = () =>
        saved(() =>
          app.api.call('POST', '/provision/operator', {
            query: q,
            body: { email: o.email, display_name: o.display_name, role: o.role, routing_keys: o.routing_keys },
          }),
        );
      const disable = () => {
        if (!window.confirm(app.t('confirmDisableOperator'))) return;
        void saved(() => call('/deprovision/operator', { operator_id: o.operator_id }));
      };
      row.appendChild(
        h(
          'td',
          { class: 'row' },
          h('button', { type: 'button', class: 'secondary', onclick: () => editRow(o, row) }, app.t('editOperator')),
          o.status === 'active'
            ? h('button', { type: 'button', class: 'danger', onclick: disable }, app.t('disableOperator'))
            : h('button', { type: 'button', class: 'secondary', onclick: () => void enable() }, app.t('enableOperator')),
        ),
      );
    }
    return row;
  };

  card.append(
    h('h2', {}, app.t('operators')),
    operators.length
      ? h(
          'table',
          { 'data-test': 'operators' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, app.t('name')),
              h('th', {}, app.t('email')),
              h('th', {}, app.t('role')),
              h('th', {}, app.t('routingKeys')),
              h('th', {}, app.t('status')),
              admin ? h('th', {}, app.t('operatorActions')) : null,
            ),
          ),
          h('tbody', {}, ...operators.map(rowOf)),
        )
      : h('p', {}, app.t('noOperators')),
  );
  if (admin) {
    const add = form(
      async (f) => {
        await saved(() => call('/provision/operator', { email: value(f, 'email'), ...settingsOf(f) }));
      },
      h('h3', {}, app.t('addOperator')),
      field(app.t('email'), input('email', { type: 'email', required: true, maxlength: '254' })),
      ...operatorFields(app, {}),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('addOperator'))),
    );
    add.setAttribute('data-test', 'add-operator');
    card.appendChild(add);
  }
  return card;
}
