/* A moderation measure that limits the reader (mute, kick, ban): the banner of
 * the room page and of the refused page (templates/rooms/_restriction.html).
 * Its end is written in the reader's language and time zone ("jusqu'au 8 déc.
 * à 14:00"); chat.js shows the socket's `restriction` frames through
 * window.chatsiteRestriction.show (docs/protocol.md, "Restrictions").
 * Every text goes in with textContent. */
(function () {
  "use strict";

  var banner = document.getElementById("restriction");
  if (!banner) return;
  var endTimer = null;

  // One time format on the site (inbox.js's window.chatsiteTime); without it, the server's words stay.
  function endText(iso, fallback) {
    var date = new Date(iso);
    var time = window.chatsiteTime;
    if (!time || isNaN(date)) return fallback || date.toLocaleString();
    return banner.dataset.untilText.replace("%(date)s", time.day(date)).replace("%(time)s", time.clock(date));
  }

  function part(name) { return banner.querySelector(".restriction-" + name); }

  // The frame's fields (or null: nothing limits the reader any more).
  // `ended` is called once a timed mute is over by the reader's clock: the
  // server says so too, this only spares a wait when its frame is late.
  function show(frame, ended) {
    clearTimeout(endTimer);
    if (!frame || !frame.measure) { banner.hidden = true; return; }
    part("label").textContent = frame.label;
    part("detail").textContent = frame.detail;
    var end = part("end");
    end.textContent = frame.until ? endText(frame.until) : banner.dataset.permanentText;
    var statement = part("statement");
    var appeal = part("appeal");
    statement.hidden = !frame.statement;
    appeal.hidden = !(frame.statement && frame.can_appeal);
    if (frame.statement) {
      statement.href = frame.statement;
      appeal.href = frame.statement + "#appeal";
    }
    banner.hidden = false;
    var left = frame.until ? new Date(frame.until) - Date.now() + 1000 : 0;
    if (frame.measure === "mute" && left > 0 && left < 2147483647 && ended) {
      endTimer = setTimeout(function () { banner.hidden = true; ended(); }, left);
    }
  }

  // What the server wrote, again in the reader's time zone.
  var end = part("end");
  if (end && end.dataset.until) end.textContent = endText(end.dataset.until, end.textContent);

  window.chatsiteRestriction = {
    show: show,
    // The measure in force ("Mise en sourdine sur tout le site"), for the
    // composer's locked line and the status; "" when none.
    label: function () { return banner.hidden ? "" : part("label").textContent; },
  };
})();
