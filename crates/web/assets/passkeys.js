// Passkeys on Portico's hosted pages. A form marked `data-passkey="<purpose>"` is shown when the
// browser can use passkeys; submitting it asks Portico for a challenge (POST /passkeys/options),
// lets the browser create or use a passkey, puts the answer in the form's `credential` field
// and submits the form. Everything else happens on the server, as for any other form.
(function () {
  'use strict';

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    var binary = atob(base64 + '==='.slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: fromBase64url(d.id), transports: d.transports };
    });
  }

  function creationOptions(o) {
    return Object.assign({}, o, {
      challenge: fromBase64url(o.challenge),
      user: Object.assign({}, o.user, { id: fromBase64url(o.user.id) }),
      excludeCredentials: descriptors(o.excludeCredentials),
    });
  }

  function requestOptions(o) {
    return Object.assign({}, o, {
      challenge: fromBase64url(o.challenge),
      allowCredentials: descriptors(o.allowCredentials),
    });
  }

  function answer(credential) {
    var r = credential.response;
    var out = { id: credential.id, type: credential.type, clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      out.attestationObject = toBase64url(r.attestationObject);
      out.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    } else {
      out.authenticatorData = toBase64url(r.authenticatorData);
      out.signature = toBase64url(r.signature);
      out.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
    }
    return JSON.stringify(out);
  }

  function showError(form, message) {
    var box = form.querySelector('[data-passkey-error]');
    if (!box) return;
    box.textContent = message;
    box.setAttribute('role', 'alert');
    box.hidden = false;
  }

  async function run(form, button) {
    var purpose = form.getAttribute('data-passkey');
    var body = new URLSearchParams();
    body.set('purpose', purpose);
    body.set('csrf_token', form.elements.csrf_token.value);
    if (form.elements.flow) body.set('flow', form.elements.flow.value);
    var reply = await fetch('/passkeys/options', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body,
    });
    var options = await reply.json();
    if (!reply.ok) {
      showError(form, options.message || form.getAttribute('data-passkey-failed'));
      return;
    }
    var credential =
      purpose === 'register'
        ? await navigator.credentials.create({ publicKey: creationOptions(options) })
        : await navigator.credentials.get({ publicKey: requestOptions(options) });
    form.elements.credential.value = answer(credential);
    button.disabled = true;
    form.submit();
  }

  function start() {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    document.querySelectorAll('form[data-passkey]').forEach(function (form) {
      form.hidden = false;
      form.querySelectorAll('[data-passkey-hidden]').forEach(function (el) {
        el.hidden = false;
      });
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        var button = event.submitter || form.querySelector('button');
        var box = form.querySelector('[data-passkey-error]');
        if (box) {
          box.hidden = true;
          box.removeAttribute('role');
        }
        run(form, button).catch(function (error) {
          // NotAllowedError: the person closed the prompt, or it timed out.
          var key = error && error.name === 'NotAllowedError' ? 'data-passkey-cancelled' : 'data-passkey-failed';
          showError(form, form.getAttribute(key));
        });
      });
    });
    document.querySelectorAll('[data-passkey-divider]').forEach(function (el) {
      el.hidden = false;
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
