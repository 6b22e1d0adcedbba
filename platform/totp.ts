/**
 * TOTP (RFC 6238) through `otpauth`: SHA-1, 6 digits, 30 s steps (what every authenticator app
 * reads), one step of drift each way. `check` returns the time step the code belongs to, so the
 * caller can refuse a second use of the same step (RFC 6238 §5.2). The enrolment QR code is drawn by
 * `qrcode` as an SVG data URL: an <img> shows it under the console's strict CSP (img-src data:).
 */
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

const PERIOD = 30;

function totp(secretBase32: string, label = 'console'): TOTP {
  return new TOTP({
    issuer: 'Bloonio Relay',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new 160-bit secret (RFC 4226's recommended length), base32 as apps expect it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export async function totpEnrolment(secretBase32: string, label: string): Promise<{ otpauthUrl: string; qrDataUrl: string }> {
  const otpauthUrl = totp(secretBase32, label).toString();
  const svg = await QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { otpauthUrl, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
}

/** The time step the code is valid for (now ±1 step), or null. */
export function checkTotp(secretBase32: string, code: string, nowMs = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secretBase32).validate({ token: code, timestamp: nowMs, window: 1 });
  return delta === null ? null : Math.floor(nowMs / 1000 / PERIOD) + delta;
}

/** The current code (tests, and the CLI a developer may use). */
export function totpNow(secretBase32: string, nowMs = Date.now()): string {
  return totp(secretBase32).generate({ timestamp: nowMs });
}
