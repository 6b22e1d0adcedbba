/**
 * The passkey demo page (development only, RELAY_DEV_PAGES): it plays a tenant's front end. Its
 * "backend" is /dev/passkeys/backend/* (api/dev/passkeys-demo.ts), which signs each call with the
 * tenant's secret as the tenant's own backend would. Self-contained (no CDN); everything shown from
 * an answer is inserted as text, never as HTML.
 *
 * The ceremony uses the browser's own JSON helpers (PublicKeyCredential.parseCreationOptionsFromJSON
 * / parseRequestOptionsFromJSON / credential.toJSON()) and falls back to a small base64url
 * conversion where a browser lacks them. `window.webauthnJSON` is the same pair of functions, for a
 * test (or a curious developer in the console) to run a ceremony with options it obtained itself.
 */
export const PASSKEYS_DEMO_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Bloonio Relay · passkeys demo</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:16px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c9cfdb;font-size:13px}
main{max-width:980px;margin:0 auto;padding:12px 28px}
fieldset{background:#fff;border:1px solid #d7dbe3;border-radius:6px;margin:12px 0;padding:10px 14px}
legend{font-weight:600}label{display:inline-block;margin:4px 12px 4px 0}input{font:inherit;padding:3px 6px}
button{font:inherit;padding:4px 12px;margin:4px 6px 4px 0;border-radius:4px;border:1px solid #1f5fbf;background:#1f5fbf;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f5fbf}
#status{padding:8px 12px;border-radius:4px;background:#e8eaef;min-height:1.5em}
#status[data-state=ok]{background:#e3f3e4;color:#1e5a22}#status[data-state=error]{background:#fbe6e4;color:#8a1f17}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e6ec;padding:4px 6px;text-align:left;font-size:13px}
tr[data-status=revoked]{color:#8a8f9c}code,pre{font:12px/1.4 ui-monospace,monospace}pre{background:#f0f2f5;padding:8px;border-radius:4px;overflow:auto;max-height:320px}
</style></head>
<body><header><h1>Passkeys demo</h1><p>Development only. This page plays a tenant's front end; its backend calls are signed with the tenant's secret by the relay's demo backend.</p></header>
<main>
<fieldset><legend>Tenant</legend>
<label>tenant_id <input id="tenant" size="34" placeholder="tnt_…"></label>
<span id="origin-note"></span>
</fieldset>
<fieldset><legend>User</legend>
<label>backend_user_id <input id="backend-user" value="demo-user-1"></label>
<label>username <input id="username" value="jane@example.com"></label>
<label>relay_user_linked_id <input id="link" size="26" placeholder="(set by a registration or sign-in)"></label>
</fieldset>
<fieldset><legend>Register</legend>
<label>passkey name <input id="passkey-name" placeholder="e.g. My laptop"></label>
<button id="register">Register a passkey</button>
</fieldset>
<fieldset><legend>Sign in</legend>
<button id="signin-user">Sign in as this user</button>
<button id="signin-usernameless" class="secondary">Sign in without a username</button>
</fieldset>
<fieldset><legend>This user's passkeys</legend>
<button id="list" class="secondary">Refresh</button>
<table><thead><tr><th>name</th><th>status</th><th>type</th><th>last used</th><th>credential id</th><th></th></tr></thead><tbody id="passkeys"></tbody></table>
</fieldset>
<div id="status" role="status" data-state="idle">Ready.</div>
<h3>Last answer</h3><pre id="out"></pre>
</main>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  $('tenant').value = params.get('tenant_id') || '';
  $('origin-note').textContent = 'this page\\'s origin: ' + location.origin + ' (must be in webauthn_origins; RP id ' + location.hostname + ' or a parent)';

  // base64url <-> bytes, only for browsers without the WebAuthn JSON helpers.
  function enc(buf) { var s = ''; new Uint8Array(buf).forEach(function (b) { s += String.fromCharCode(b); }); return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''); }
  function dec(s) { var b = s.replace(/-/g, '+').replace(/_/g, '/'); b += '='.repeat((4 - (b.length % 4)) % 4); return Uint8Array.from(atob(b), function (c) { return c.charCodeAt(0); }); }
  function withIds(list) { return (list || []).map(function (c) { return Object.assign({}, c, { id: dec(c.id) }); }); }
  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    return Object.assign({}, json, { challenge: dec(json.challenge), user: Object.assign({}, json.user, { id: dec(json.user.id) }), excludeCredentials: withIds(json.excludeCredentials) });
  }
  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    return Object.assign({}, json, { challenge: dec(json.challenge), allowCredentials: withIds(json.allowCredentials) });
  }
  function credentialJSON(cred) {
    if (typeof cred.toJSON === 'function') return cred.toJSON();
    var r = cred.response, out = { id: cred.id, rawId: enc(cred.rawId), type: cred.type, authenticatorAttachment: cred.authenticatorAttachment || null, clientExtensionResults: cred.getClientExtensionResults() };
    if (r.attestationObject) out.response = { clientDataJSON: enc(r.clientDataJSON), attestationObject: enc(r.attestationObject), transports: r.getTransports ? r.getTransports() : [] };
    else out.response = { clientDataJSON: enc(r.clientDataJSON), authenticatorData: enc(r.authenticatorData), signature: enc(r.signature), userHandle: r.userHandle ? enc(r.userHandle) : null };
    return out;
  }
  window.webauthnJSON = {
    create: function (json) { return navigator.credentials.create({ publicKey: creationOptions(json) }).then(credentialJSON); },
    get: function (json) { return navigator.credentials.get({ publicKey: requestOptions(json) }).then(credentialJSON); },
  };

  function show(state, text, answer) {
    $('status').dataset.state = state; $('status').textContent = text;
    if (answer !== undefined) $('out').textContent = JSON.stringify(answer, null, 2);
  }
  // The demo backend: the tenant's backend, which signs the call to the relay.
  function backend(op, body) {
    return fetch('/dev/passkeys/backend/' + op, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ tenant_id: $('tenant').value.trim(), body: body }) })
      .then(function (r) { return r.json().then(function (j) { if (!j.success) { var e = new Error(j.status_code + ' ' + (j.error && j.error.code) + ': ' + j.message); e.answer = j; throw e; } return j.data; }); });
  }
  function failed(err) {
    var text = err.answer ? 'Refused: ' + err.message : 'Browser: ' + (err.name || 'Error') + ': ' + err.message;
    show('error', text, err.answer || { error: String(err) });
  }
  function user() { var link = $('link').value.trim(); return link ? { relay_user_linked_id: link } : { backend_user_id: $('backend-user').value.trim() }; }

  $('register').onclick = function () {
    show('busy', 'Registering…');
    var reg = Object.assign(user(), { username: $('username').value.trim(), browser_origin: location.origin });
    backend('register-options', reg).then(function (d) {
      $('link').value = d.relay_user_linked_id;
      return window.webauthnJSON.create(d.options);
    }).then(function (response) {
      var body = { browser_origin: location.origin, response: response, relay_user_linked_id: $('link').value };
      if ($('passkey-name').value.trim()) body.name = $('passkey-name').value.trim();
      return backend('register-verify', body);
    }).then(function (d) { return list().then(function () { show('ok', 'Registered passkey "' + d.name + '" for ' + d.backend_user_id + '.', d); }); }).catch(failed);
  };
  function signIn(withUser) {
    show('busy', 'Signing in…');
    var body = Object.assign(withUser ? user() : {}, { browser_origin: location.origin });
    backend('authenticate-options', body).then(function (d) { return window.webauthnJSON.get(d.options); })
      .then(function (response) { return backend('authenticate-verify', { browser_origin: location.origin, response: response }); })
      .then(function (d) {
        $('link').value = d.relay_user_linked_id;
        return list().then(function () { show('ok', 'Signed in as ' + d.backend_user_id + ' with "' + d.name + '"' + (d.user_verified ? ' (user verified).' : '.'), d); });
      }).catch(failed);
  }
  $('signin-user').onclick = function () { signIn(true); };
  $('signin-usernameless').onclick = function () { signIn(false); };

  function cell(text) { var td = document.createElement('td'); td.textContent = text == null ? '' : String(text); return td; }
  function list() {
    var link = $('link').value.trim();
    if (!link) return Promise.resolve();
    return backend('fetch-passkeys', { relay_user_linked_id: link }).then(function (d) {
      var tbody = $('passkeys'); tbody.textContent = '';
      d.passkeys.forEach(function (p) {
        var tr = document.createElement('tr'); tr.dataset.status = p.status; tr.dataset.credentialId = p.credential_id;
        tr.append(cell(p.name), cell(p.status), cell(p.device_type + (p.backed_up ? ', backed up' : '')), cell(p.last_used_at || 'never'), cell(p.credential_id.slice(0, 16) + '…'));
        var actions = document.createElement('td');
        if (p.status === 'active') {
          var input = document.createElement('input'); input.className = 'rename-input'; input.placeholder = 'new name'; input.size = 14;
          var rename = document.createElement('button'); rename.className = 'secondary rename'; rename.textContent = 'Rename';
          rename.onclick = function () {
            backend('rename-passkey', { relay_user_linked_id: link, credential_id: p.credential_id, name: input.value.trim() })
              .then(function (r) { return list().then(function () { show('ok', 'Renamed to "' + r.name + '".', r); }); }).catch(failed);
          };
          var revoke = document.createElement('button'); revoke.className = 'secondary revoke'; revoke.textContent = 'Revoke';
          revoke.onclick = function () {
            backend('revoke-passkey', { relay_user_linked_id: link, credential_id: p.credential_id })
              .then(function (r) { return list().then(function () { show('ok', 'Revoked "' + r.name + '".', r); }); }).catch(failed);
          };
          actions.append(input, rename, revoke);
        }
        tr.append(actions); tbody.append(tr);
      });
    });
  }
  // Every action refreshes the list before it reports, so what the status line says is on screen.
  $('list').onclick = function () { show('busy', 'Loading…'); list().then(function () { show('ok', 'List refreshed.'); }).catch(failed); };
})();
</script></body></html>`;
