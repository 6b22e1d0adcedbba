/**
 * widget.js: `<script src="$BASE_URL/widget.js" data-tenant-id="tnt_…" data-widget-key="pk_…" async>`.
 *
 * Options as data attributes: data-locale (fr|en; default the page's <html lang>, else fr),
 * data-routing-key, data-mode (bot|human), data-welcome, data-base-url (default the script's origin).
 *
 * window.Bloonio — the JS API (the first widget of the page; `Bloonio.get(tenantId)` for another):
 *   open(), close(), identify({visitor_token}), on('message'|'open'|'close'|'unread', fn) → unsubscribe,
 *   shutdown(), init(options) → a widget started by code instead of a script tag, get(tenantId).
 * `on` listens to every widget of the page; each payload carries `tenant_id`. The page gets a
 * `bloonio:ready` event on window once the API is there (the script is async).
 *
 * Several script tags (two tenants on one page) each start their own widget, with their own shadow
 * root, storage key and socket; the bundle's code is shared through window.Bloonio.
 */
import { Widget, type WidgetEvent, type WidgetOptions } from './widget.js';

type Api = {
  version: string;
  init: (o: Omit<WidgetOptions, 'index'> & { baseUrl?: string }) => PublicWidget;
  get: (tenantId: string) => PublicWidget | undefined;
  open: () => void;
  close: () => void;
  identify: (o: { visitor_token: string }) => void;
  on: (event: WidgetEvent, fn: (p: Record<string, unknown>) => void) => () => void;
  shutdown: () => void;
  /** Internal: boots the widget a script tag describes. */
  _boot: (script: HTMLScriptElement) => void;
};
type PublicWidget = Pick<Widget, 'open' | 'close' | 'identify' | 'on' | 'shutdown'> & { tenantId: string };

const T0 = performance.now();

function createApi(): Api {
  const widgets: Widget[] = [];
  const globalListeners: [WidgetEvent, (p: Record<string, unknown>) => void][] = [];
  const expose = (w: Widget): PublicWidget => ({
    tenantId: w.tenantId,
    open: () => w.open(),
    close: () => w.close(),
    identify: (o) => w.identify(o),
    on: (e, fn) => w.on(e, fn),
    shutdown: () => {
      w.shutdown();
      widgets.splice(widgets.indexOf(w), 1);
    },
  });
  const start = (o: WidgetOptions): PublicWidget => {
    const existing = widgets.find((w) => w.tenantId === o.tenantId);
    if (existing) return expose(existing);
    const w = new Widget({ ...o, index: widgets.length });
    for (const [e, fn] of globalListeners) w.on(e, fn);
    widgets.push(w);
    return expose(w);
  };
  const first = () => widgets[0];
  return {
    version: '1',
    init: (o) => start({ ...o, baseUrl: (o.baseUrl ?? location.origin).replace(/\/$/, '') }),
    get: (id) => {
      const w = widgets.find((x) => x.tenantId === id);
      return w ? expose(w) : undefined;
    },
    open: () => first()?.open(),
    close: () => first()?.close(),
    identify: (o) => first()?.identify(o),
    on: (event, fn) => {
      globalListeners.push([event, fn]);
      const offs = widgets.map((w) => w.on(event, fn));
      return () => {
        offs.forEach((off) => off());
        const i = globalListeners.findIndex(([e, f]) => e === event && f === fn);
        if (i >= 0) globalListeners.splice(i, 1);
      };
    },
    shutdown: () => {
      const w = first();
      if (w) expose(w).shutdown();
    },
    _boot: (script) => {
      const d = script.dataset;
      if (!d.tenantId || !d.widgetKey) return console.error('Bloonio widget: data-tenant-id and data-widget-key are required');
      const mode = d.mode === 'human' ? 'human' : d.mode === 'bot' ? 'bot' : undefined;
      start({
        tenantId: d.tenantId,
        widgetKey: d.widgetKey,
        baseUrl: (d.baseUrl || new URL(script.src, location.href).origin).replace(/\/$/, ''),
        locale: d.locale ?? null,
        routingKey: d.routingKey ?? null,
        welcome: d.welcome ?? null,
        ...(mode ? { mode } : {}),
      });
      // The launcher is on the page: how long after this script started running (printed by the tests).
      performance.measure('bloonio:launcher', { start: T0, end: performance.now() });
    },
  };
}

declare global {
  interface Window {
    Bloonio?: Api;
  }
}

const api = window.Bloonio?._boot ? window.Bloonio : (window.Bloonio = createApi());
const script = document.currentScript as HTMLScriptElement | null;
if (script?.dataset.tenantId) {
  const boot = () => api._boot(script);
  if (document.body) boot();
  else document.addEventListener('DOMContentLoaded', boot, { once: true });
}
dispatchEvent(new Event('bloonio:ready'));
