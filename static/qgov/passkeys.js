// Passkey ceremonies (qgov.identity.mfa): a button with data-passkey="register" or "sign-in" asks its
// data-options URL for WebAuthn options, lets the browser create or use a credential, posts the answer
// to its data-verify URL and follows the redirect it gets back. The server checks everything.
(function () {
  "use strict";

  function toBytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
  }

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    bytes.forEach((b) => { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: body === undefined ? "{}" : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({error: response.statusText}));
    if (!response.ok) { throw new Error(data.error || response.statusText); }
    return data;
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach((c) => { c.id = toBytes(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach((c) => { c.id = toBytes(c.id); });
    return options;
  }

  function registrationJSON(credential, name) {
    return {
      id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type, name: name,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment,
      response: {
        clientDataJSON: toBase64url(credential.response.clientDataJSON),
        attestationObject: toBase64url(credential.response.attestationObject),
        transports: credential.response.getTransports ? credential.response.getTransports() : [],
      },
    };
  }

  function assertionJSON(credential) {
    const r = credential.response;
    return {
      id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment,
      response: {
        clientDataJSON: toBase64url(r.clientDataJSON), authenticatorData: toBase64url(r.authenticatorData),
        signature: toBase64url(r.signature), userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
      },
    };
  }

  async function run(button) {
    const status = document.querySelector(button.dataset.status || "[data-passkey-status]");
    const say = (text, bad) => {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("text-danger", Boolean(bad));
    };
    if (!window.PublicKeyCredential) { say(button.dataset.unsupported || "This browser has no passkeys.", true); return; }
    button.disabled = true;
    say(button.dataset.working || "…");
    try {
      const options = await post(button.dataset.options);
      let answer;
      if (button.dataset.passkey === "register") {
        const nameInput = document.querySelector(button.dataset.nameInput || "#id_name");
        const credential = await navigator.credentials.create({publicKey: creationOptions(options)});
        answer = registrationJSON(credential, nameInput ? nameInput.value : "");
      } else {
        const credential = await navigator.credentials.get({publicKey: requestOptions(options)});
        answer = assertionJSON(credential);
      }
      const result = await post(button.dataset.verify, answer);
      window.location.assign(result.redirect);
    } catch (error) {
      say(error.message || String(error), true);
      button.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-passkey]");
    if (button) { event.preventDefault(); run(button); }
  });
})();
