/* Editing and deleting one's message, the reaction picker and who reacted:
 * loaded by chat-features.js on the first use of one of them (the room page's
 * weight budget, docs/ux.md). Texts go in with textContent. */
window.chatsiteActions = function (features) {
  "use strict";

  var api = features.api;
  var S = api.strings;
  var el = features.el;
  var button = features.button;
  var emojis = features.emojis;

  function startEdit(item) {
    if (item.querySelector("form.edit-form")) return;
    var body = item.querySelector(".message-body");
    var form = el("form", "edit-form");
    var label = el("label", "visually-hidden", S.edit_label);
    var area = el("textarea");
    area.id = "edit-" + item.dataset.id;
    label.htmlFor = area.id;
    area.value = body.textContent;
    area.rows = 2;
    area.maxLength = parseInt(api.chat.dataset.maxLength, 10);
    var save = el("button", "small", S.save);
    save.type = "submit";
    var cancel = button("small ghost", S.cancel);
    form.append(label, area, save, cancel);
    body.hidden = true;
    body.after(form);
    area.focus();
    function close() { form.remove(); body.hidden = false; item.querySelector('[data-action="edit"]').focus(); }
    cancel.addEventListener("click", close);
    area.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(); }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = area.value.trim();
      if (!text) return;
      if (api.send({ type: "message.edit", id: parseInt(item.dataset.id, 10), body: text, client_id: "edit-" + item.dataset.id })) close();
      else api.showError(S.offline);
    });
  }

  function remove(item) {
    if (!window.confirm(S.delete_confirm)) return;
    if (!api.send({ type: "message.delete", id: parseInt(item.dataset.id, 10), client_id: "delete-" + item.dataset.id })) api.showError(S.offline);
  }

  function picker(item, opener) {
    var open = item.querySelector(".reaction-picker");
    if (open) { open.remove(); opener.setAttribute("aria-expanded", "false"); return; }
    var box = el("div", "reaction-picker");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", S.react_label);
    emojis.forEach(function (emoji) {
      var choice = button("small ghost", emoji, api.format(S.react_with, { emoji: emoji }));
      choice.dataset.pick = emoji;
      box.append(choice);
    });
    opener.after(box);
    opener.setAttribute("aria-expanded", "true");
    box.querySelector("button").focus();
  }

  // Who reacted, on hover, focus or long press: one read per message, kept briefly.
  var reactorCache = new Map();
  function showReactors(toggle) {
    var item = toggle.closest("li.message");
    var id = item.dataset.id;
    var cached = reactorCache.get(id);
    var fetched = cached && Date.now() - cached.at < 10000 ? Promise.resolve(cached.data) :
      fetch("/api/messages/" + id + "/reactions/", { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { reactions: {} }; })
        .then(function (data) { reactorCache.set(id, { at: Date.now(), data: data }); return data; });
    fetched.then(function (data) {
      var names = (data.reactions || {})[toggle.dataset.emoji] || [];
      toggle.title = names.join(", ");
      var tip = item.querySelector(".reactors") || el("p", "reactors small muted");
      tip.setAttribute("role", "status");
      tip.textContent = toggle.dataset.emoji + " " + names.join(", ");
      item.querySelector(".reactions").after(tip);
    }).catch(function () {});
  }

  return { startEdit: startEdit, remove: remove, picker: picker, showReactors: showReactors };
};
