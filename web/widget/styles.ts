/**
 * The widget's stylesheet, adopted by its shadow root. `:host` rules are !important: in the cascade,
 * a page's rules on the host element (`* { all: unset }`) beat the shadow tree's normal rules but
 * lose to its important ones. Sizes are in px, never rem (the page's root font size must not matter).
 * Colours: --bl-primary is the tenant's brand colour, --bl-on-primary the readable text on it,
 * --bl-ink the brand colour darkened to 4.5:1 on white (web/shared/color.ts).
 */
export const WIDGET_CSS = `
:host{all:initial!important;position:fixed!important;z-index:2147483000!important;bottom:20px!important;right:20px!important;
width:0!important;height:0!important;display:block!important;visibility:visible!important;opacity:1!important;
transform:none!important;pointer-events:auto!important;contain:none!important}
*,*::before,*::after{box-sizing:border-box}
.root{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2330;
-webkit-font-smoothing:antialiased;text-align:left;direction:ltr}
button{font:inherit;color:inherit;cursor:pointer;border:0;background:none;margin:0;padding:0}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
:focus-visible{outline:3px solid var(--bl-ink);outline-offset:2px}
.launcher{position:absolute;right:0;bottom:0;width:60px;height:60px;border-radius:50%;background:var(--bl-primary);color:var(--bl-on-primary);
display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(20,30,60,.28);transition:transform .15s}
.launcher:hover{transform:scale(1.05)}
.launcher svg{width:28px;height:28px}
.launcher:focus-visible{outline-color:#111;box-shadow:0 0 0 3px #fff,0 6px 20px rgba(20,30,60,.28)}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c4122f;color:#fff;
font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff}
.badge[hidden],[hidden]{display:none!important}
.panel{position:absolute;right:0;bottom:76px;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 110px);
background:#fff;border-radius:16px;box-shadow:0 12px 48px rgba(20,30,60,.3);display:flex;flex-direction:column;overflow:hidden}
@media (max-width:480px){.panel{position:fixed;inset:0;width:auto;max-width:none;height:auto;max-height:none;border-radius:0}}
.head{background:var(--bl-primary);color:var(--bl-on-primary);padding:14px 12px 14px 16px;display:flex;align-items:center;gap:12px}
.logo{width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.92);object-fit:cover;flex:none}
.initials{width:38px;height:38px;border-radius:50%;flex:none;display:flex;align-items:center;justify-content:center;font-weight:700;
background:var(--bl-on-primary);color:var(--bl-primary);font-size:16px}
.titles{flex:1;min-width:0}
.title{margin:0;font-size:16px;font-weight:700;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sub{margin:0;font-size:12.5px;opacity:.95}
.x{width:40px;height:40px;border-radius:50%;display:flex;align-items:center;justify-content:center;color:inherit}
.x:hover{background:rgba(127,127,127,.25)}
.x svg{width:22px;height:22px}
.x:focus-visible{outline-color:currentColor}
.banner{padding:8px 14px;font-size:13px;background:#fff4d6;color:#5c3d00;border-bottom:1px solid #f0d68a}
.banner.error{background:#fde8ea;color:#8a0f22;border-color:#f3b8c0}
.log{flex:1;overflow-y:auto;padding:14px 14px 6px;background:#f6f7fb;margin:0;list-style:none}
.log:focus-visible{outline-offset:-3px}
.msg{display:flex;flex-direction:column;align-items:flex-start;margin:0 0 10px;max-width:85%}
.msg .who{font-size:12px;color:#4a5265;margin:0 0 2px 4px}
.bubble{padding:9px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;color:#1d2330;
border:1px solid #e3e6ee;border-bottom-left-radius:4px}
.msg.me{margin-left:auto;align-items:flex-end}
.msg.me .bubble{background:var(--bl-primary);color:var(--bl-on-primary);border-color:transparent;border-radius:14px;border-bottom-right-radius:4px}
.meta{font-size:11.5px;color:#4a5265;margin:2px 4px 0}
.msg.failed .meta{color:#a10d26;font-weight:600}
.note{text-align:center;font-size:12.5px;color:#4a5265;margin:6px 0 12px}
.typing{padding:0 16px 4px;font-size:12.5px;color:#4a5265;min-height:20px;background:#f6f7fb}
.compose{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid #e3e6ee;background:#fff}
textarea{flex:1;resize:none;font:inherit;color:#1d2330;background:#fff;border:1px solid #8a93a6;border-radius:10px;padding:9px 10px;
min-height:40px;max-height:120px;margin:0}
textarea:focus-visible{outline:2px solid var(--bl-ink);outline-offset:0;border-color:var(--bl-ink)}
.send{width:42px;height:42px;border-radius:50%;background:var(--bl-primary);color:var(--bl-on-primary);display:flex;align-items:center;
justify-content:center;flex:none}
.send svg{width:20px;height:20px}
.send:disabled{opacity:.55;cursor:default}
.foot{font-size:11px;color:#4a5265;text-align:center;padding:0 0 6px;background:#fff}
`;
