/** The console page's stylesheet: adopted by the document (a constructed stylesheet, so the page's CSP keeps style-src 'none'). */
export const CONSOLE_CSS = `
*,*::before,*::after{box-sizing:border-box}
html,body{margin:0;height:100%}
#console{min-height:100%;display:flex;flex-direction:column}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2330;background:#f4f6fa;-webkit-font-smoothing:antialiased}
a{color:#1746c7}
:focus-visible{outline:3px solid #1746c7;outline-offset:2px}
h1{font-size:20px;margin:0 0 12px}
h2{font-size:16px;margin:22px 0 10px}
button{font:inherit;cursor:pointer;border-radius:6px;border:1px solid #1746c7;background:#1746c7;color:#fff;padding:7px 14px;font-weight:600}
button.secondary{background:#fff;color:#1746c7}
button.danger{background:#fff;color:#b00020;border-color:#b00020}
button.link{background:none;border:0;color:#1746c7;padding:0;font-weight:500;text-decoration:underline}
button:disabled{opacity:.5;cursor:not-allowed}
label{display:block;font-weight:600;margin:10px 0 4px}
input,select,textarea{font:inherit;width:100%;padding:7px 9px;border:1px solid #b9c0cf;border-radius:6px;background:#fff;color:#1d2330}
textarea{min-height:64px;resize:vertical}
input[type=checkbox]{width:auto;margin-right:6px}
.hint{color:#4a5265;font-size:12.5px;margin:2px 0 0}
.row{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin-top:12px}
.card{background:#fff;border:1px solid #dde1ea;border-radius:10px;padding:20px;margin-bottom:16px}
.auth{max-width:420px;margin:8vh auto;padding:0 16px}
.auth select{width:auto;margin-left:auto}
.auth .brand{font-size:22px;font-weight:700;color:#14213d}
.auth > .row{margin:0 0 14px}
.notice{padding:9px 12px;border-radius:6px;background:#e7f0ff;color:#0f2e7a;margin:10px 0}
.notice.error{background:#fde8ea;color:#8a0f22}
.notice.ok{background:#e4f6ea;color:#0b5a27}
.notice.dev{background:#fff4d6;color:#5c3d00}
.top{display:flex;align-items:center;gap:14px;padding:10px 20px;background:#14213d;color:#fff;flex-wrap:wrap}
.top .brand{font-weight:700;font-size:16px}
.top label{display:inline;margin:0 6px 0 0;font-weight:500}
.top select{width:auto;padding:4px 8px}
.top .spacer{flex:1}
.top button{background:#fff;color:#14213d;border-color:#fff;padding:5px 10px}
.top :focus-visible{outline-color:#ffd166}
.layout{display:flex;flex:1}
nav{width:210px;flex:none;padding:16px 10px;background:#fff;border-right:1px solid #dde1ea}
nav a{display:block;padding:8px 12px;border-radius:6px;text-decoration:none;color:#1d2330;font-weight:500}
nav a[aria-current=page]{background:#e3eaff;color:#0f2e7a;font-weight:700}
main{flex:1;padding:22px 28px;min-width:0;max-width:1100px}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:7px 9px;border-bottom:1px solid #e6e9f0;vertical-align:top;font-size:13.5px}
th{font-size:12.5px;color:#4a5265;font-weight:600}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;overflow-wrap:anywhere}
.pill{display:inline-block;font-size:12px;font-weight:600;border-radius:10px;padding:1px 9px;background:#e6e9f0;color:#2b3242}
.pill.active,.pill.succeeded{background:#dcf3e3;color:#0b5a27}
.pill.suspended,.pill.dead{background:#fde8ea;color:#8a0f22}
.pill.pending{background:#fff4d6;color:#5c3d00}
.secret{display:flex;gap:8px;align-items:center;background:#f6f7fb;border:1px dashed #8a93a8;border-radius:6px;padding:8px 10px;margin:4px 0 10px}
.secret code{flex:1}
.qr{width:200px;height:200px;display:block;margin:10px 0;border:1px solid #dde1ea}
.codes{columns:2;font-family:ui-monospace,Menlo,monospace;margin:10px 0;padding-left:20px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:0 18px}
@media (max-width:760px){.layout{display:block}nav{width:auto;display:flex;overflow-x:auto}.grid{grid-template-columns:1fr}main{padding:16px}}
`;
