// Passkeys (WebAuthn): registration on the account page, the second step of sign-in, and
// sign-in with a passkey alone. The server makes the options and checks the answers; this
// only converts between the JSON it speaks (base64url) and the browser's ArrayBuffers.
(function () {
  "use strict";

  function toBuffer(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    var padded = base64 + "===".slice((base64.length + 3) % 4);
    var binary = atob(padded);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) { return Object.assign({}, item, { id: toBuffer(item.id) }); });
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) { json.response.userHandle = toBase64url(response.userHandle); }
    }
    return json;
  }

  // Every message comes from the box's data-msg-* attributes (mfa/_passkey_messages.html),
  // translated by the page, so this file has no language of its own.
  function messages(box) {
    return box.querySelector(".passkey-messages").dataset;
  }

  function post(url, box, body, contentType) {
    var headers = { "X-CSRFToken": box.querySelector("input[name=csrf_token]").value, "Accept": "application/json" };
    if (contentType) { headers["Content-Type"] = contentType; }
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: body })
      .then(function (res) {
        return res.json().then(function (data) {
          if (!res.ok) { throw new Error(data.error || messages(box).msgRefused); }
          return data;
        });
      });
  }

  function run(box) {
    var kind = box.getAttribute("data-passkey");
    var status = box.querySelector(".passkey-status");
    var text = messages(box);
    var say = function (text) { if (status) { status.textContent = text; } };
    if (!window.PublicKeyCredential) { say(text.msgUnsupported); return; }
    say(text.msgPrompt);
    post(box.getAttribute("data-options-url"), box, null).then(function (options) {
      options.challenge = toBuffer(options.challenge);
      if (kind === "register") {
        options.user.id = toBuffer(options.user.id);
        options.excludeCredentials = descriptors(options.excludeCredentials);
        return navigator.credentials.create({ publicKey: options }).then(function (credential) {
          var form = new FormData();
          form.append("credential", JSON.stringify(credentialJSON(credential)));
          form.append("name", box.querySelector("input[name=name]").value);
          return post(box.getAttribute("data-url"), box, form);
        });
      }
      options.allowCredentials = descriptors(options.allowCredentials);
      return navigator.credentials.get({ publicKey: options }).then(function (credential) {
        return post(box.getAttribute("data-url"), box, JSON.stringify(credentialJSON(credential)),
                    "application/json");
      });
    }).then(function (result) {
      say(text.msgDone);
      window.location.assign(result.redirect);
    }).catch(function (error) {
      say(error && error.name === "NotAllowedError" ? text.msgCancelled
        : (error && error.message) || text.msgFailed);
    });
  }

  // The buttons come disabled: a passkey needs this script, and a click before it is here would
  // otherwise send the form as a plain GET.
  document.querySelectorAll("[data-passkey]").forEach(function (box) {
    var trigger = box.tagName === "FORM" ? "submit" : "click";
    var target = box.tagName === "FORM" ? box : box.querySelector(".passkey-button");
    target.addEventListener(trigger, function (event) { event.preventDefault(); run(box); });
    box.querySelectorAll(".passkey-button").forEach(function (button) { button.disabled = false; });
  });
}());
