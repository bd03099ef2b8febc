/* Chatsite room page, the conversation features (issue 17): replies, mentions
 * with autocompletion, edit and delete of one's own messages, reactions and
 * who reacted, "X écrit…", clickable links with a warning before leaving the
 * site, search, ignoring someone, grouping, date separators and the
 * "nouveaux messages ↓" pill. Loaded before chat.js, which calls the hooks of
 * window.chatsiteFeatures. Protocol: docs/protocol.md.
 *
 * Every user-provided string is inserted with textContent, never as HTML.
 */
(function () {
  "use strict";

  var TYPING_EVERY_MS = 3000; // the server passes one typing frame on per 3 s anyway
  var GROUP_WITHIN_MS = 5 * 60 * 1000;
  var LONG_PRESS_MS = 500;
  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
  var TRAILING_PUNCTUATION = /[.,;:!?)\]}'»]+$/;
  var MENTION_PATTERN = /(^|[^\w@])@([\w.+-]+)/g;

  var api = null;
  var S = {};
  var emojis = [];
  var allowedHosts = [];
  var editWindowMs = 0;
  var ignored = new Set();
  var blocked = new Set(); // folded too, as the block's confirmation says
  var myReactions = new Map(); // message id -> Set of emoji
  var knownNames = new Set();
  var replyTo = null; // {id, author, excerpt} of the message being answered
  var lastTyping = 0;
  var pill, typingLine, replyBar, suggestions;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(className, text, label) {
    var node = el("button", className, text);
    node.type = "button";
    if (label) node.setAttribute("aria-label", label);
    return node;
  }

  function itemOf(id) { return api.list.querySelector('li.message[data-id="' + String(parseInt(id, 10)) + '"]'); }

  // --- links and mentions in a body -----------------------------------------------------

  function isAllowed(url) {
    try {
      var host = new URL(url, location.href).hostname;
      return host === location.hostname || allowedHosts.some(function (allowed) {
        return host === allowed || host.endsWith("." + allowed);
      });
    } catch (e) { return false; }
  }

  function link(url) {
    var anchor = el("a", "message-link", url);
    anchor.href = url;
    anchor.rel = "nofollow ugc noopener noreferrer";
    anchor.target = "_blank";
    return anchor;
  }

  function fillBody(body, message) {
    var mentions = new Set((message.mentions || []).map(function (name) { return name.toLowerCase(); }));
    var text = message.body;
    body.replaceChildren();
    var cursor = 0;
    var parts = [];
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(TRAILING_PUNCTUATION, "");
      parts.push([offset, offset + url.length, "url"]);
      return match;
    });
    text.replace(MENTION_PATTERN, function (match, before, name, offset) {
      var start = offset + before.length;
      var bare = name.replace(/[.+-]+$/, "");
      var found = mentions.has(name.toLowerCase()) ? name : mentions.has(bare.toLowerCase()) ? bare : null;
      if (!found) return match;
      var inside = parts.some(function (part) { return start >= part[0] && start < part[1]; });
      if (!inside) parts.push([start, start + 1 + found.length, "mention"]);
      return match;
    });
    parts.sort(function (a, b) { return a[0] - b[0]; });
    parts.forEach(function (part) {
      if (part[0] < cursor) return;
      body.append(text.slice(cursor, part[0]));
      var piece = text.slice(part[0], part[1]);
      if (part[2] === "url") body.append(link(piece));
      else {
        var mention = el("span", "mention" + (piece.slice(1).toLowerCase() === api.me.toLowerCase() ? " me" : ""), piece);
        body.append(mention);
      }
      cursor = part[1];
    });
    body.append(text.slice(cursor));
  }

  document.addEventListener("click", function (event) {
    var anchor = event.target.closest && event.target.closest("a.message-link");
    if (!anchor || isAllowed(anchor.href)) return;
    var host = anchor.hostname;
    if (!window.confirm(api.format(S.leaving, { host: host }))) event.preventDefault();
  });

  // --- rendering a message ----------------------------------------------------------------

  function quote(reply) {
    var jump = button("reply-quote link small");
    jump.dataset.replyTo = String(reply.id);
    jump.append(el("span", "reply-author", reply.author), " ");
    jump.append(el("span", "reply-excerpt", reply.deleted ? S.deleted : reply.excerpt));
    jump.title = api.format(S.reply_quote, { name: reply.author });
    if (reply.deleted) jump.classList.add("deleted");
    return jump;
  }

  function reactionBar(item, message) {
    var bar = item.querySelector(".reactions");
    if (!bar) {
      bar = el("div", "reactions");
      bar.setAttribute("role", "group");
      bar.setAttribute("aria-label", S.reactions);
      item.querySelector(".message-body").after(bar);
    }
    var counts = message.reactions || {};
    var mine = myReactions.get(message.id) || new Set();
    bar.replaceChildren();
    emojis.forEach(function (emoji) {
      if (!counts[emoji]) return;
      var toggle = button("reaction small secondary", emoji + " " + counts[emoji]);
      toggle.dataset.emoji = emoji;
      toggle.setAttribute("aria-pressed", mine.has(emoji) ? "true" : "false");
      toggle.title = api.format(S.reaction_count, { emoji: emoji, count: counts[emoji] });
      bar.append(toggle);
    });
    bar.hidden = !bar.children.length;
    item.dataset.reactions = JSON.stringify(counts);
  }

  function renderMessage(item, message, mine) {
    knownNames.add(message.author);
    item.dataset.author = message.author;
    item.dataset.created = message.created;
    var body = item.querySelector(".message-body");
    fillBody(body, message);
    if ((message.mentions || []).some(function (name) { return name.toLowerCase() === api.me.toLowerCase(); })) {
      item.classList.add("mentions-me");
    }
    if (message.reply_to) item.querySelector(".message-meta").after(quote(message.reply_to));
    var edited = el("span", "edited small muted", S.edited);
    edited.hidden = !message.edited;
    if (message.edited) edited.title = new Date(message.edited).toLocaleString(document.documentElement.lang);
    item.querySelector(".message-meta").append(" ", edited);
    reactionBar(item, message);
    var actions = item.querySelector(".message-actions");
    if (!actions) { actions = el("div", "message-actions"); item.append(actions); }
    var reply = button("link small", S.reply, api.format(S.reply_to_name, { name: message.author }));
    reply.dataset.action = "reply";
    var react = button("link small", S.react);
    react.title = S.react_label;
    react.dataset.action = "react";
    react.setAttribute("aria-expanded", "false");
    actions.prepend(reply, react);
    if (mine) {
      var editable = Date.now() - new Date(message.created).getTime() < editWindowMs;
      var edit = button("link small", S.edit, S.edit_label);
      edit.dataset.action = "edit";
      edit.hidden = !editable;
      var remove = button("link small", S.delete, S.delete_label);
      remove.dataset.action = "delete";
      actions.append(edit, remove);
    }
    if (folded(message.author) && !mine) collapse(item);
  }

  function folded(name) { return ignored.has(name) || blocked.has(name); }

  function collapse(item) {
    item.classList.add("ignored");
    var name = item.dataset.author;
    var reveal = button("link small reveal", api.format(blocked.has(name) ? S.blocked_message : S.ignored_message, { name: name }));
    reveal.dataset.action = "reveal";
    reveal.setAttribute("aria-expanded", "false");
    item.prepend(reveal);
  }

  // Grouping (same author within minutes) and date separators, around one item.
  function dayKey(iso) { return new Date(iso).toDateString(); }

  function previousMessage(node) {
    for (node = node.previousElementSibling; node; node = node.previousElementSibling) {
      if (node.classList.contains("message") && node.dataset.id) return node; // not a pending one
    }
    return null;
  }

  function layoutAround(item) {
    [item, nextMessage(item)].forEach(function (node) { if (node) layout(node); });
  }

  function nextMessage(node) {
    for (node = node.nextElementSibling; node; node = node.nextElementSibling) {
      if (node.classList.contains("message") && node.dataset.id) return node; // not a pending one
    }
    return null;
  }

  function layout(item) {
    var previous = previousMessage(item);
    var sameDay = previous && dayKey(previous.dataset.created) === dayKey(item.dataset.created);
    var separator = item.previousElementSibling;
    while (separator && separator.classList.contains("unread-divider")) separator = separator.previousElementSibling;
    var hasSeparator = separator && separator.classList.contains("date-separator");
    if (sameDay && hasSeparator) separator.remove();
    if (!sameDay && !(hasSeparator && separator.dataset.day === dayKey(item.dataset.created))) {
      if (hasSeparator) separator.remove();
      var date = new Date(item.dataset.created);
      var line = el("li", "date-separator", new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "full" }).format(date));
      line.dataset.day = dayKey(item.dataset.created);
      item.before(line);
    }
    var grouped = sameDay && previous.dataset.author === item.dataset.author &&
      new Date(item.dataset.created) - new Date(previous.dataset.created) < GROUP_WITHIN_MS &&
      !item.querySelector(".reply-quote");
    item.classList.toggle("grouped", Boolean(grouped));
  }

  function placed(item, live) {
    layoutAround(item);
    if (live && !api.nearBottom()) pill.hidden = false;
  }

  // --- frames from the server ----------------------------------------------------------------

  function frame(data) {
    if (data.type === "message.updated") {
      var item = itemOf(data.id);
      if (!item) return true;
      var body = item.querySelector(".message-body");
      fillBody(body, { body: data.body, mentions: data.mentions || [] });
      var edited = item.querySelector(".edited");
      if (edited) { edited.hidden = false; edited.title = new Date(data.edited).toLocaleString(document.documentElement.lang); }
      item.classList.toggle("mentions-me", (data.mentions || []).some(function (name) { return name.toLowerCase() === api.me.toLowerCase(); }));
      return true;
    }
    if (data.type === "reactions") {
      var target = itemOf(data.id);
      if (target) reactionBar(target, { id: data.id, reactions: data.counts });
      return true;
    }
    if (data.type === "typing") {
      var names = (data.users || []).filter(function (name) { return !ignored.has(name); });
      typingLine.textContent = !names.length ? "" : names.length === 1
        ? api.format(S.typing_one, { name: names[0] })
        : api.format(S.typing_many, { names: names.join(", ") });
      return true;
    }
    return false;
  }

  function deleted(id) {
    // Replies quoting it say it is gone.
    api.list.querySelectorAll('.reply-quote[data-reply-to="' + id + '"]').forEach(function (jump) {
      jump.classList.add("deleted");
      jump.querySelector(".reply-excerpt").textContent = S.deleted;
    });
    var item = itemOf(id);
    if (item) item.querySelectorAll(".message-actions, .reactions").forEach(function (node) { node.remove(); });
  }

  // --- actions on messages ----------------------------------------------------------------

  function excerptOf(item) {
    var text = item.querySelector(".message-body").textContent.replace(/\s+/g, " ");
    return text.length > 120 ? text.slice(0, 119) + "…" : text;
  }

  function startReply(item) {
    replyTo = { id: parseInt(item.dataset.id, 10), author: item.dataset.author };
    replyBar.querySelector(".reply-target").textContent = api.format(S.replying_to, { name: replyTo.author }) + " " + excerptOf(item);
    replyBar.hidden = false;
    api.input.focus();
  }

  function cancelReply() { replyTo = null; replyBar.hidden = true; }

  function toggleReaction(item, emoji) {
    var id = parseInt(item.dataset.id, 10);
    var mine = myReactions.get(id) || new Set();
    var adding = !mine.has(emoji);
    if (!api.send({ type: adding ? "reaction.add" : "reaction.remove", id: id, emoji: emoji })) { api.showError(S.offline); return; }
    if (adding) mine.add(emoji); else mine.delete(emoji);
    myReactions.set(id, mine);
    var counts = JSON.parse(item.dataset.reactions || "{}");
    reactionBar(item, { id: id, reactions: counts });
  }

  // Editing, deleting, the reaction picker and who reacted: chat-actions.js,
  // loaded on the first use (the room page's weight budget, docs/ux.md).
  var actions = null;
  function later(name) {
    return function () {
      var args = arguments;
      actions = actions || api.loadScript(api.chat.dataset.actionsScript).then(function () {
        return window.chatsiteActions({ api: api, el: el, button: button, emojis: emojis });
      });
      actions.then(function (done) { done[name].apply(null, args); }, function () { actions = null; api.showError(S.offline); });
    };
  }
  var startEdit = later("startEdit"), remove = later("remove"), picker = later("picker"), showReactors = later("showReactors");

  function jumpTo(id) {
    api.loadUntil(id).then(function (item) {
      if (!item) { api.showError(S.original_gone); return; }
      item.scrollIntoView({ block: "center", behavior: api.smooth ? "smooth" : "auto" });
      item.classList.add("flash-target");
      setTimeout(function () { item.classList.remove("flash-target"); }, 1600);
      item.focus({ preventScroll: true });
    });
  }

  function onListClick(event) {
    var target = event.target.closest("button");
    if (!target) return;
    var item = target.closest("li.message");
    if (!item) return;
    if (target.dataset.replyTo) { jumpTo(parseInt(target.dataset.replyTo, 10)); return; }
    if (target.dataset.pick) { toggleReaction(item, target.dataset.pick); target.parentNode.remove(); item.querySelector('[data-action="react"]').focus(); return; }
    if (target.classList.contains("reaction")) { toggleReaction(item, target.dataset.emoji); return; }
    switch (target.dataset.action) {
      case "reply": startReply(item); break;
      case "react": picker(item, target); break;
      case "edit": startEdit(item); break;
      case "delete": remove(item); break;
      case "reveal":
        var open = item.classList.toggle("ignored");
        target.setAttribute("aria-expanded", open ? "false" : "true");
        break;
    }
  }

  // --- typing, mentions autocompletion ---------------------------------------------------------

  function onInput() {
    var now = Date.now();
    if (api.input.value && now - lastTyping > TYPING_EVERY_MS) {
      lastTyping = now;
      api.send({ type: "typing" });
    }
    suggest();
  }

  function currentMention() {
    var before = api.input.value.slice(0, api.input.selectionStart);
    var match = before.match(/(^|[^\w@])@([\w.+-]*)$/);
    return match ? match[2] : null;
  }

  function suggest() {
    var partial = currentMention();
    suggestions.replaceChildren();
    if (partial === null) { closeSuggestions(); return; }
    var lower = partial.toLowerCase();
    var names = Array.from(knownNames).concat(
      Array.from(document.querySelectorAll("#presence [data-card]")).map(function (node) { return node.dataset.card; })
    ).filter(function (name, index, all) {
      return all.indexOf(name) === index && name !== api.me && name.toLowerCase().startsWith(lower);
    }).sort().slice(0, 6);
    if (!names.length) { closeSuggestions(); return; }
    names.forEach(function (name, index) {
      var option = el("li", "", name);
      option.id = "mention-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", index === 0 ? "true" : "false");
      option.addEventListener("mousedown", function (event) { event.preventDefault(); complete(name); });
      suggestions.append(option);
    });
    suggestions.hidden = false;
    api.input.setAttribute("aria-activedescendant", "mention-option-0");
  }

  function closeSuggestions() {
    suggestions.hidden = true;
    api.input.removeAttribute("aria-activedescendant");
  }

  function complete(name) {
    var position = api.input.selectionStart;
    var before = api.input.value.slice(0, position).replace(/@[\w.+-]*$/, "@" + name + " ");
    api.input.value = before + api.input.value.slice(position);
    api.input.setSelectionRange(before.length, before.length);
    closeSuggestions();
    api.input.focus();
  }

  function onComposerKey(event) {
    if (suggestions.hidden) {
      if (event.key === "Escape" && replyTo) cancelReply();
      return;
    }
    var options = Array.from(suggestions.children);
    var index = options.findIndex(function (option) { return option.getAttribute("aria-selected") === "true"; });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      index = (index + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      api.input.setAttribute("aria-activedescendant", options[index].id);
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      event.stopImmediatePropagation(); // not a send
      complete(options[index].textContent);
    } else if (event.key === "Escape") {
      closeSuggestions();
    }
  }

  // --- search: chat-search.js, loaded the first time the search opens ----------------------------
  // (the room page's weight budget, docs/ux.md)

  function setUpSearch() {
    var box = document.querySelector(".chat-search");
    var form = document.getElementById("search-form");
    if (!box || !form) return;
    var loading = null;
    function load() {
      return loading || (loading = api.loadScript(box.dataset.script).then(function () {
        return window.chatsiteSearch({ api: api, el: el, jumpTo: jumpTo });
      }, function (error) { loading = null; throw error; }));
    }
    box.addEventListener("toggle", function () { if (box.open) load().catch(function () {}); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      load().then(function (search) { search.run(); }, function () {});
    });
  }

  // --- ignoring someone, from the profile card ---------------------------------------------------

  // The card's "Ignorer" button is chat-card.js's (loaded with the first card);
  // the same browser's other tabs (other rooms, the profile page) follow at
  // once, other devices at their next page load.
  var channel = null;
  var ignores = {
    has: function (name) { return ignored.has(name); },
    set: function (name, on, quiet) {
      ignored[on ? "add" : "delete"](name);
      var toggle = document.getElementById("profile-card-ignore");
      if (toggle && document.getElementById("profile-card-name").textContent === name) toggle.textContent = on ? S.unignore : S.ignore;
      refold(name);
      if (channel && !quiet) channel.postMessage({ name: name, ignored: on });
    },
  };

  function setUpIgnore() {
    channel = window.BroadcastChannel ? new BroadcastChannel("chatsite:ignores") : null;
    if (channel) {
      channel.addEventListener("message", function (event) {
        var data = event.data || {};
        if (typeof data.name === "string") ignores.set(data.name, !!data.ignored, true);
      });
    }
  }

  // Folds or unfolds someone's messages after an ignore or a block changed.
  function refold(name) {
    api.list.querySelectorAll("li.message").forEach(function (item) {
      if (item.dataset.author !== name || item.classList.contains("mine")) return;
      var reveal = item.querySelector(".reveal");
      if (reveal) { reveal.remove(); item.classList.remove("ignored"); }
      if (folded(name)) collapse(item);
    });
  }

  // --- set-up ------------------------------------------------------------------------------------

  function init(chatApi) {
    api = chatApi;
    S = api.strings;
    var config = JSON.parse(document.getElementById("chat-features").textContent);
    emojis = config.emojis;
    allowedHosts = config.allowed_hosts;
    editWindowMs = config.edit_window_seconds * 1000;
    config.ignored.forEach(function (name) { ignored.add(name); });
    config.blocked.forEach(function (name) { blocked.add(name); });
    pill = document.getElementById("new-messages-pill");
    typingLine = document.getElementById("typing");
    replyBar = document.getElementById("reply-bar");
    suggestions = document.getElementById("mention-suggestions");
    api.input.setAttribute("aria-controls", "mention-suggestions");
    api.input.setAttribute("aria-autocomplete", "list");
    api.list.addEventListener("click", onListClick);
    api.list.addEventListener("pointerover", function (event) {
      var toggle = event.target.closest && event.target.closest("button.reaction");
      if (toggle) showReactors(toggle);
    });
    api.list.addEventListener("focusin", function (event) {
      if (event.target.matches("button.reaction")) showReactors(event.target);
    });
    var pressTimer = null;
    api.list.addEventListener("touchstart", function (event) {
      var toggle = event.target.closest("button.reaction");
      if (toggle) pressTimer = setTimeout(function () { showReactors(toggle); }, LONG_PRESS_MS);
    }, { passive: true });
    api.list.addEventListener("touchend", function () { clearTimeout(pressTimer); });
    api.list.addEventListener("scroll", function () { if (api.nearBottom()) pill.hidden = true; }, { passive: true });
    pill.addEventListener("click", function () {
      api.list.scrollTo({ top: api.list.scrollHeight, behavior: api.smooth ? "smooth" : "auto" });
      pill.hidden = true;
      api.input.focus();
    });
    replyBar.querySelector("button").addEventListener("click", function () { cancelReply(); api.input.focus(); });
    api.input.addEventListener("input", onInput);
    api.input.addEventListener("keydown", onComposerKey, true);
    api.input.addEventListener("blur", function () { setTimeout(closeSuggestions, 150); });
    setUpSearch();
    setUpIgnore();
    // A search hit in another room opens it at #message-<id>.
    var wanted = /^#message-(\d+)$/.exec(location.hash);
    if (wanted) setTimeout(function () { jumpTo(parseInt(wanted[1], 10)); }, 800);
  }

  window.chatsiteFeatures = {
    init: init,
    ignores: ignores,
    fold: function (name, on) { blocked[on ? "add" : "delete"](name); refold(name); },
    renderMessage: renderMessage,
    placed: placed,
    frame: frame,
    deleted: deleted,
    // A removal reversed on appeal: the message is drawn again, whole.
    restored: function (item, message, mine) {
      item.querySelectorAll(".reply-quote, .reactions, .message-actions, .edited, .reveal").forEach(function (node) { node.remove(); });
      renderMessage(item, message, mine);
    },
    takeReply: function () { var id = replyTo && replyTo.id; cancelReply(); return id; },
    myReactions: function (mine) {
      Object.keys(mine).forEach(function (id) { myReactions.set(parseInt(id, 10), new Set(mine[id])); });
    },
  };
})();
