/**
 * The console's mails, in French and English: plain text (what every client shows, and what a code
 * needs) plus a minimal HTML part. Each template takes only what it prints.
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

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function renderMail(kind: MailKind, locale: Locale, to: string, vars: MailVars): Mail {
  const { subject, lines } = T[kind][locale](vars);
  const html = lines.map((l) => `<p>${esc(l).replace(/(https?:\/\/\S+)/g, (u) => `<a href="${u}">${u}</a>`)}</p>`).join('\n');
  return { to, subject, text: `${lines.join('\n\n')}\n\n— Bloonio Relay\n`, html };
}
