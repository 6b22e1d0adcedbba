/** The inbox's stylesheet (adopted by its shadow root; px sizes; AA contrast on white and on the brand-free greys). */
export const INBOX_CSS = `
:host{all:initial;display:block;height:100%;min-height:420px}
.root{height:100%}
*,*::before,*::after{box-sizing:border-box}
.app{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2330;background:#fff;height:100%;display:flex;
flex-direction:column;-webkit-font-smoothing:antialiased}
button{font:inherit;cursor:pointer}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
:focus-visible{outline:3px solid #1746c7;outline-offset:2px}
.top{display:flex;align-items:center;gap:12px;padding:10px 16px;background:#14213d;color:#fff}
.top h1{font-size:16px;margin:0;flex:1}
.who{font-size:13px}
.top button{background:#fff;color:#14213d;border:0;border-radius:6px;padding:6px 10px;font-size:13px}
.top :focus-visible{outline-color:#ffd166}
.banner{padding:8px 16px;background:#fff4d6;color:#5c3d00;font-size:13px;border-bottom:1px solid #f0d68a}
.banner.error{background:#fde8ea;color:#8a0f22;border-color:#f3b8c0}
.body{flex:1;display:flex;min-height:0}
.side{width:340px;flex:none;border-right:1px solid #dde1ea;display:flex;flex-direction:column;min-height:0;background:#f6f7fb}
.tabs{display:flex;border-bottom:1px solid #dde1ea}
.tab{flex:1 1 auto;min-width:0;overflow:hidden;text-overflow:ellipsis;border:0;background:none;padding:10px 4px;color:#3b4356;border-bottom:3px solid transparent;font-weight:600;font-size:13px;white-space:nowrap}
.tab[aria-selected=true]{color:#1746c7;border-bottom-color:#1746c7;background:#fff}
.count{display:inline-block;min-width:20px;margin-left:6px;padding:0 6px;border-radius:10px;background:#dde1ea;color:#1d2330;font-size:12px}
.list{list-style:none;margin:0;padding:0;overflow-y:auto;flex:1}
.item{display:block;width:100%;text-align:left;border:0;border-bottom:1px solid #e6e9f0;background:none;padding:10px 14px;color:#1d2330}
.item:hover{background:#eef1f8}
.item[aria-current=true]{background:#e3eaff}
.item .line1{display:flex;gap:8px;align-items:center;font-weight:600}
.item .line2,.item .line3{display:block;font-size:12.5px;color:#4a5265;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.item .line3{color:#1d2330}
.wait{font-weight:600;color:#8a4b00}
.pill{font-size:11.5px;font-weight:600;border-radius:10px;padding:1px 8px;background:#e6e9f0;color:#2b3242}
.pill.new{background:#c4122f;color:#fff}
.pill.ticket{background:#fff0c2;color:#5c3d00}
.empty{padding:16px;color:#4a5265}
.main{flex:1;display:flex;flex-direction:column;min-width:0}
.conv-head{padding:12px 16px;border-bottom:1px solid #dde1ea;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
.conv-head h2{font-size:15px;margin:0;flex:1 1 auto}
.facts{font-size:12.5px;color:#4a5265;display:flex;gap:10px;flex-wrap:wrap}
.actions{display:flex;gap:8px}
.actions button{border:1px solid #1746c7;background:#fff;color:#1746c7;border-radius:6px;padding:6px 12px;font-weight:600}
.actions button.primary{background:#1746c7;color:#fff}
.actions button:disabled{border-color:#b8bfcc;color:#5f6778;background:#f3f4f7;cursor:default}
.ticket-box{margin:0 16px;padding:8px 12px;border-radius:8px;background:#fff8e0;color:#5c3d00;font-size:13px;border:1px solid #f0d68a}
.log{flex:1;overflow-y:auto;list-style:none;margin:0;padding:14px 16px;background:#fbfbfd}
.msg{margin:0 0 10px;max-width:75%;display:flex;flex-direction:column;align-items:flex-start}
.msg .who{font-size:12px;color:#4a5265;margin:0 0 2px}
.bubble{padding:8px 12px;border-radius:12px;background:#eef0f5;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.op{margin-left:auto;align-items:flex-end}
.msg.op .bubble{background:#1746c7;color:#fff}
.msg.bot .bubble{background:#e7f5ee;color:#12351f}
.meta{font-size:11.5px;color:#4a5265;margin-top:2px}
.typing{min-height:20px;padding:0 16px;font-size:12.5px;color:#4a5265}
.compose{display:flex;gap:8px;padding:10px 16px;border-top:1px solid #dde1ea}
textarea{flex:1;resize:none;font:inherit;border:1px solid #8a93a6;border-radius:8px;padding:8px 10px;min-height:42px;color:#1d2330}
textarea:disabled{background:#f3f4f7}
.compose button{border:0;border-radius:8px;background:#1746c7;color:#fff;padding:0 16px;font-weight:600}
.compose button:disabled{background:#b8bfcc;color:#2b3242}
.placeholder{margin:auto;color:#4a5265;padding:24px}
`;
