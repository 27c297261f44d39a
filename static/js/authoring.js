// Lesson editor: EasyMDE on the Markdown textarea, a live preview rendered by the SERVER's
// sanitiser (never by the browser's Markdown library), and image uploads that insert Markdown.
(function () {
  "use strict";

  var textarea = document.querySelector("textarea[data-markdown-editor]");
  if (!textarea || typeof EasyMDE === "undefined") { return; }
  var form = textarea.form;
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var target = document.getElementById(textarea.dataset.previewTarget);
  // The page gives the messages in the reader's language (authoring/_editor_messages.html).
  var messagesBlock = document.getElementById("editor-messages");
  var say = messagesBlock ? JSON.parse(messagesBlock.textContent) : {};

  function paragraph(text, strong) {
    var p = document.createElement("p");
    var inner = strong ? p.appendChild(document.createElement("strong")) : p;
    inner.textContent = text;
    return p.outerHTML;
  }

  // Ask the server for the sanitised HTML; the newest request wins.
  var sequence = 0;
  function renderOnServer(markdown, callback) {
    var mine = ++sequence;
    var body = new FormData();
    body.append("markdown", markdown);
    fetch(textarea.dataset.previewUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, "Accept": "application/json"}
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      if (mine === sequence) { callback(data.html); }
    }).catch(function () {
      if (mine === sequence) { callback(paragraph(say.preview_failed, true)); }
    });
  }

  function button(name, action, text, title) {
    return {name: name, action: action, text: text, title: title};
  }

  var editor = new EasyMDE({
    element: textarea,
    forceSync: true,               // the textarea always holds the text, so the form posts it
    spellChecker: false,           // its dictionaries come from a CDN; the browser's own checker is used
    nativeSpellcheck: true,
    autoDownloadFontAwesome: false,
    // CodeMirror's contenteditable input (its default on phones) instead of a hidden textarea: screen
    // readers follow it better, and it lives inside the scrolling text, which keyboard users can
    // then reach (axe: scrollable-region-focusable).
    inputStyle: "contenteditable",
    status: ["lines", "words"],
    minHeight: "320px",
    maxHeight: "560px",            // the editor scrolls beside its preview instead of growing the page
    toolbar: [
      button("heading-2", EasyMDE.toggleHeading2, "H", say.heading),
      button("bold", EasyMDE.toggleBold, "B", say.bold),
      button("italic", EasyMDE.toggleItalic, "I", say.italic),
      "|",
      // The words a button shows are its accessible name (WCAG 2.5.3: "1. List" was not part of
      // "Numbered list", so a person saying what they see could not press it by voice).
      button("unordered-list", EasyMDE.toggleUnorderedList, say.bulleted_list, say.bulleted_list),
      button("ordered-list", EasyMDE.toggleOrderedList, say.numbered_list, say.numbered_list),
      button("quote", EasyMDE.toggleBlockquote, "❝", say.quote),
      button("link", EasyMDE.drawLink, say.link, say.link),
      button("table", EasyMDE.drawTable, say.table, say.table),
      "|",
      button("preview", EasyMDE.togglePreview, say.preview, say.toggle_preview)
    ],
    previewRender: function (markdown, preview) {
      renderOnServer(markdown, function (html) { preview.innerHTML = html; });
      return preview.innerHTML || paragraph(say.rendering, false);
    }
  });
  // EasyMDE takes its toolbar buttons out of the tab order; keyboard users need them too.
  editor.gui.toolbar.querySelectorAll("button").forEach(function (b) { b.tabIndex = 0; });
  // CodeMirror's own input gets the textarea's label and description.
  var input = editor.codemirror.getInputField();
  var label = document.querySelector("label[for='" + textarea.id + "']");
  if (label) { input.setAttribute("aria-label", label.textContent.replace("*", "").trim()); }
  if (textarea.getAttribute("aria-describedby")) {
    input.setAttribute("aria-describedby", textarea.getAttribute("aria-describedby"));
  }

  var timer = null;
  function refresh() {
    renderOnServer(editor.value(), function (html) { target.innerHTML = html; });
  }
  editor.codemirror.on("change", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();

  // Image upload without leaving the page: the server checks and re-encodes the image and
  // answers with the Markdown line, inserted at the cursor.
  var imageForm = document.querySelector("form[data-image-upload]");
  if (imageForm) {
    var status = document.getElementById("image-status");
    imageForm.addEventListener("submit", function (event) {
      event.preventDefault();
      status.textContent = say.uploading;
      fetch(imageForm.action, {
        method: "POST", body: new FormData(imageForm), credentials: "same-origin",
        headers: {"Accept": "application/json"}
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (!result.ok) {
          status.textContent = say.not_added.replace("{error}", function () { return result.data.error; });
          return;
        }
        editor.codemirror.replaceSelection("\n" + result.data.markdown + "\n");
        status.textContent = say.image_added.replace("{markdown}", function () { return result.data.markdown; });
        imageForm.reset();
      }).catch(function () {
        status.textContent = say.upload_failed;
      });
    });
  }
})();
