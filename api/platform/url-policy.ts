/**
 * Callback URLs refused when a tenant sets them, not only at delivery: a `callback_url_base` or
 * `bot_webhook_url` whose host is a literal loopback, private or otherwise non-public address (or a
 * `localhost` name) can never be delivered to while CALLBACK_ALLOW_PRIVATE_NETWORKS is off, so the
 * admin hears it at once (422 naming the field) instead of finding dead letters later. Host names
 * are still checked at delivery, after DNS (platform/ssrf.ts).
 */
import type { Config } from '../../platform/config.js';
import { ApiError } from '../errors.js';
import { isLoopbackName, isPublicAddress, literalHost } from '../../platform/ssrf.js';

export const CALLBACK_URL_FIELDS = ['callback_url_base', 'bot_webhook_url'] as const;

export function refuseNonPublicCallbackUrls(
  config: Config,
  body: Partial<Record<(typeof CALLBACK_URL_FIELDS)[number], string | null>>,
): void {
  if (config.callbackAllowPrivateNetworks) return;
  const details: string[] = [];
  for (const field of CALLBACK_URL_FIELDS) {
    const value = body[field];
    if (!value) continue;
    const url = new URL(value); // already validated as an http(s) URL by the route's schema
    const host = literalHost(url);
    if ((host && !isPublicAddress(host)) || isLoopbackName(url.hostname)) {
      details.push(
        `${field}: the host is a loopback, private or otherwise non-public address; callbacks cannot reach it (CALLBACK_ALLOW_PRIVATE_NETWORKS is off)`,
      );
    }
  }
  if (details.length) throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', details);
}
