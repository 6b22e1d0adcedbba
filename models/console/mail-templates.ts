/**
 * The console's mails, in French and English: plain text (what every client shows, and what a code
 * needs) plus a minimal HTML part. Each template takes only what it prints.
 *
 * Attacker-chosen text (a workspace's name, an inviter's display name) is printed defanged: mail
 * clients turn anything that looks like an address into a link ("evil.com", "http://x", "a@b.c"),
 * so its dots, slashes, colons and @ become look-alike characters that no linkifier reads as a URL,
 * control and bidi characters go, and the HTML part links only the relay's own link.
 */
import type { Mail } from '../../platform/mailer.js';

export type MailKind = 'registration-code' | 'already-registered' | 'login-code' | 'reset-code' | 'reset-unknown' | 'invitation';
export type MailVars = { code?: string; link?: string; workspace?: string; inviter?: string; role?: string; minutes?: number };
type Locale = 'fr' | 'en';

const T: Record<MailKind, Record<Locale, (v: MailVars) => { subject: string; lines: string[] }>> = {
  'registration-code': {
    fr: (v) => ({
      subject: `Votre code Bloonio : ${v.code}`,
      lines: [
        `Votre code de vérification est : ${v.code}`,
        `Il expire dans ${v.minutes} minutes et ne sert qu’une fois.`,
        'Si vous n’avez pas créé de compte, ignorez ce message.',
      ],
    }),
    en: (v) => ({
      subject: `Your Bloonio code: ${v.code}`,
      lines: [
        `Your verification code is: ${v.code}`,
        `It expires in ${v.minutes} minutes and works once.`,
        'If you did not sign up, ignore this message.',
      ],
    }),
  },
  'already-registered': {
    fr: () => ({
      subject: 'Vous avez déjà un compte Bloonio',
      lines: [
        'Quelqu’un (peut-être vous) a voulu créer un compte avec cette adresse, qui en a déjà un.',
        'Connectez-vous, ou réinitialisez votre mot de passe si vous l’avez oublié.',
      ],
    }),
    en: () => ({
      subject: 'You already have a Bloonio account',
      lines: [
        'Someone (maybe you) tried to sign up with this address, which already has an account.',
        'Sign in, or reset your password if you forgot it.',
      ],
    }),
  },
  'login-code': {
    fr: (v) => ({
      subject: `Code de connexion Bloonio : ${v.code}`,
      lines: [
        `Votre code de connexion est : ${v.code}`,
        `Il expire dans ${v.minutes} minutes.`,
        'Si ce n’est pas vous, changez votre mot de passe.',
      ],
    }),
    en: (v) => ({
      subject: `Bloonio sign-in code: ${v.code}`,
      lines: [`Your sign-in code is: ${v.code}`, `It expires in ${v.minutes} minutes.`, 'If this was not you, change your password.'],
    }),
  },
  'reset-code': {
    fr: (v) => ({
      subject: `Réinitialisation du mot de passe Bloonio : ${v.code}`,
      lines: [
        `Votre code de réinitialisation est : ${v.code}`,
        `Il expire dans ${v.minutes} minutes.`,
        'Si vous n’avez rien demandé, ignorez ce message.',
      ],
    }),
    en: (v) => ({
      subject: `Bloonio password reset: ${v.code}`,
      lines: [`Your reset code is: ${v.code}`, `It expires in ${v.minutes} minutes.`, 'If you did not ask for it, ignore this message.'],
    }),
  },
  'reset-unknown': {
    fr: () => ({
      subject: 'Réinitialisation du mot de passe Bloonio',
      lines: [
        'Quelqu’un a demandé à réinitialiser le mot de passe de cette adresse, mais aucun compte Bloonio ne l’utilise.',
        'Si ce n’est pas vous, ignorez ce message.',
      ],
    }),
    en: () => ({
      subject: 'Bloonio password reset',
      lines: [
        'Someone asked to reset the password of this address, but no Bloonio account uses it.',
        'If this was not you, ignore this message.',
      ],
    }),
  },
  invitation: {
    fr: (v) => ({
      subject: `${v.inviter} vous invite dans ${v.workspace} sur Bloonio`,
      lines: [
        `${v.inviter} vous invite à rejoindre l’espace « ${v.workspace} » (rôle : ${v.role}).`,
        `Acceptez l’invitation : ${v.link}`,
        'Le lien ne sert qu’une fois et expire.',
      ],
    }),
    en: (v) => ({
      subject: `${v.inviter} invited you to ${v.workspace} on Bloonio`,
      lines: [
        `${v.inviter} invited you to join the workspace “${v.workspace}” (role: ${v.role}).`,
        `Accept the invitation: ${v.link}`,
        'The link works once and expires.',
      ],
    }),
  },
};

/** Look-alikes for the characters URLs, domains and addresses are made of; controls and bidi overrides removed. */
const LOOK_ALIKE: Record<string, string> = { '.': '\u2024', '/': '\u2215', ':': '\uA789', '@': '\uFF20', '\\': '\u29F5' };
export function defang(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- control characters are what this removes
      .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]+/g, ' ')
      .replace(/[./:@\\]/g, (c) => LOOK_ALIKE[c] ?? c)
      .trim()
  );
}
const UNTRUSTED = ['workspace', 'inviter'] as const;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function renderMail(kind: MailKind, locale: Locale, to: string, vars: MailVars): Mail {
  const safe: MailVars = { ...vars };
  for (const k of UNTRUSTED) if (safe[k] !== undefined) safe[k] = defang(safe[k]);
  const { subject, lines } = T[kind][locale](safe);
  // Only the relay's own link becomes an anchor; everything else is escaped text.
  const link = vars.link ? esc(vars.link) : null;
  const html = lines.map((l) => `<p>${link ? esc(l).split(link).join(`<a href="${link}">${link}</a>`) : esc(l)}</p>`).join('\n');
  return { to, subject, text: `${lines.join('\n\n')}\n\n— Bloonio Relay\n`, html };
}
