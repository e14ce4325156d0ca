// Progressive enhancements: every page works without this file.
(function () {
  "use strict";

  var announcer = document.querySelector("[data-announcer]");

  function announce(text) {
    if (announcer) announcer.textContent = text;
  }

  // Reconnects with backoff unless the server said "go away" (4xxx; 4503 means "come back soon").
  function liveSocket(path, onMessage, onState) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var delay = 1000;
    function connect() {
      var socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () { delay = 1000; if (onState) onState(true); };
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (error) { return; }
        onMessage(message);
      };
      socket.onclose = function (event) {
        if (onState) onState(false);
        if (event.code >= 4000 && event.code < 5000 && event.code !== 4503) return;
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    connect();
  }

  // --- Poll page: option cards that fill with live results ---
  // Snapshot parts (templates/polls/_results.html) are copied into the cards, so a half-filled ballot stays.
  var poll = document.querySelector("[data-poll]");
  if (poll) {
    var results = poll.querySelector("[data-live-results]");
    var status = poll.querySelector("[data-live-status]");
    var likes = poll.querySelector("[data-likes]");
    // A reconnected socket has no memory of what the page shows (realtime/events.py).
    var version = -1;

    var fill = function (html) {
      var fresh = document.createElement("template");
      fresh.innerHTML = html; // rendered and escaped by the server's template
      var next = fresh.content.querySelector("[data-results]");
      var shown = results.querySelector("[data-results]");
      if (!next || !shown) return;
      next.querySelectorAll("[data-option-id]").forEach(function (card) {
        var here = shown.querySelector('[data-option-id="' + card.dataset.optionId + '"]');
        if (!here) return;
        here.classList.toggle("is-leader", card.classList.contains("is-leader"));
        var body = here.querySelector(".option-body");
        var share = here.querySelector("[data-option-share]");
        var bar = here.querySelector(".option-bar");
        var nextBar = card.querySelector(".option-bar");
        if (share) share.replaceWith(card.querySelector("[data-option-share]"));
        else body.append(card.querySelector("[data-option-share]"));
        if (bar) bar.value = nextBar.value; // the fill slides to the new share
        else body.append(nextBar);
      });
      var summary = shown.querySelector("[data-results-summary], .results-note");
      var nextSummary = next.querySelector("[data-results-summary]");
      if (summary && nextSummary) summary.replaceWith(nextSummary);
      shown.classList.add("has-results");
    };

    var seal = function (reason) {
      // The poll's rule now hides results from this viewer: the cards keep only their options.
      results.querySelectorAll("[data-option-share], .option-bar").forEach(function (part) { part.remove(); });
      results.querySelectorAll(".is-leader").forEach(function (card) { card.classList.remove("is-leader"); });
      var summary = results.querySelector("[data-results-summary]");
      if (summary) {
        var note = document.createElement("p");
        note.className = "results-note";
        note.textContent = reason;
        summary.replaceWith(note);
      }
      if (status) status.remove();
      status = null;
    };

    liveSocket("/ws/poll/" + poll.dataset.pollId + "/", function (message) {
      if (message.type === "results" && message.version > version) {
        version = message.version;
        fill(message.html);
        if (likes) likes.textContent = message.likes_count;
      } else if (message.type === "results_hidden") {
        seal(message.reason);
      } else if (message.type === "poll.closed" || message.type === "poll.updated") {
        announce("This poll changed; reloading.");
        location.reload();
      } else if (message.type === "poll.deleted") {
        results.textContent = "This poll has been deleted.";
      }
    }, function (connected) {
      // Shown only where the server rendered it: visible results of an open poll.
      if (status) status.hidden = !connected;
    });

    // Multiple choice with a limit: once the limit is reached, the other boxes rest.
    var form = poll.querySelector(".vote-form");
    if (form) {
      var limit = parseInt(form.dataset.maxChoices, 10);
      var boxes = form.querySelectorAll('input[type="checkbox"]');
      var rest = function () {
        var picked = form.querySelectorAll('input[type="checkbox"]:checked').length;
        boxes.forEach(function (box) { box.disabled = !box.checked && picked >= limit; });
      };
      form.addEventListener("change", rest);
      rest();
    }
  }

  // --- Copy a link ---
  // Without the clipboard API the link stays in a read-only box.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    var label = button.textContent;
    var reset;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = "Copied";
        button.classList.add("copied");
        announce("Link copied");
        clearTimeout(reset);
        reset = setTimeout(function () {
          button.textContent = label;
          button.classList.remove("copied");
        }, 2000);
      }, function () {
        source.focus();
        source.select();
        announce("Copying was refused: the link is selected, copy it with your keyboard");
      });
    });
  });
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // --- Confirm before destructive posts ---
  // A view that asks again without JavaScript is told the dialog already asked.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      if (!form.querySelector('input[name="confirmed"]')) {
        var confirmed = document.createElement("input");
        confirmed.type = "hidden";
        confirmed.name = "confirmed";
        confirmed.value = "1";
        form.append(confirmed);
      }
    });
  });

  // --- Create and edit: add, remove and reorder options ---
  // Without this script "Add an option" posts the form back with one more row.
  document.querySelectorAll("[data-option-list]").forEach(function (list) {
    var max = parseInt(list.dataset.maxOptions, 10);
    var add = list.parentNode.querySelector("[data-add-option]");
    var dragged = null;

    function rows() { return list.querySelectorAll("li"); }

    function renumber() {
      rows().forEach(function (item, index) {
        var input = item.querySelector("input");
        input.placeholder = "Option " + (index + 1);
        item.querySelector("label").textContent = "Option " + (index + 1);
        item.querySelector("[data-remove]").disabled = rows().length <= 2;
      });
      if (add) add.disabled = rows().length >= max;
    }

    function tool(item, label, text, action) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "icon option-tool";
      button.textContent = text;
      button.setAttribute("aria-label", label);
      button.addEventListener("click", function () { action(item); renumber(); });
      item.appendChild(button);
      return button;
    }

    function equip(item) {
      var handle = item.querySelector(".option-handle");
      handle.addEventListener("pointerdown", function () { item.draggable = true; });
      item.addEventListener("dragstart", function (event) {
        dragged = item;
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
      });
      item.addEventListener("dragend", function () {
        item.draggable = false;
        item.classList.remove("dragging");
        dragged = null;
        renumber();
      });
      item.querySelector("input").addEventListener("input", function (event) {
        event.target.classList.remove("invalid");
        event.target.removeAttribute("aria-invalid");
      });
      tool(item, "Move up", "↑", function (it) { if (it.previousElementSibling) list.insertBefore(it, it.previousElementSibling); });
      tool(item, "Move down", "↓", function (it) { if (it.nextElementSibling) list.insertBefore(it.nextElementSibling, it); });
      tool(item, "Remove option", "✕", function (it) {
        if (rows().length <= 2) return;
        var next = it.nextElementSibling || it.previousElementSibling;
        it.remove();
        next.querySelector("input").focus();
      }).dataset.remove = "";
    }

    function addRow() {
      var item = list.lastElementChild.cloneNode(true);
      item.querySelectorAll("button").forEach(function (b) { b.remove(); });
      var input = item.querySelector("input");
      input.value = "";
      input.className = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      input.id = input.id.replace(/-\d+$/, "-" + (rows().length + 1));
      item.querySelector("label").htmlFor = input.id;
      list.appendChild(item);
      equip(item);
      renumber();
      input.focus();
    }

    list.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      var over = event.target.closest("li");
      if (!over || over === dragged) return;
      var box = over.getBoundingClientRect();
      list.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? over.nextElementSibling : over);
    });
    // Enter in an option goes on to the next one (a new one after the last), not to "Create".
    list.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
      event.preventDefault();
      var next = event.target.closest("li").nextElementSibling;
      if (next) next.querySelector("input").focus();
      else if (rows().length < max) addRow();
    });
    if (add) {
      add.addEventListener("click", function (event) {
        event.preventDefault();
        addRow();
      });
    }
    rows().forEach(equip);
    list.classList.add("enhanced");
    renumber();
  });

  var multiple = document.querySelector("#id_allow_multiple");
  var maxChoices = document.querySelector('[data-field="max_choices"]');
  if (multiple && maxChoices) {
    var sync = function () { maxChoices.hidden = !multiple.checked; };
    multiple.addEventListener("change", sync);
    sync();
  }

  // --- Notifications badge ---
  var userId = document.body.dataset.userId;
  var badge = document.querySelector("[data-notification-count]");
  if (userId && badge) {
    var showUnread = function (count) {
      badge.textContent = String(count);
      badge.hidden = count < 1;
    };
    liveSocket("/ws/user/" + userId + "/", function (message) {
      if (message.type === "notifications.read") {
        showUnread(message.unread);  // read here or in another tab
        return;
      }
      if (message.type === "notification.updated") {
        announce(message.notification.message);  // a grouped notice: already in the badge
        return;
      }
      if (message.type !== "notification") return;
      showUnread((parseInt(badge.textContent, 10) || 0) + 1);
      announce(message.notification.message);
    });
  }

  // --- Home page: live activity ---
  var feed = document.querySelector("[data-global-feed]");
  if (feed) {
    var ticker = feed.querySelector("[data-ticker]");
    var activity = feed.querySelector("[data-activity]");
    var activityEmpty = feed.querySelector("[data-activity-empty]");
    var liveLabel = feed.querySelector("[data-live-label]");
    ticker.hidden = false; // nothing arrives without this script
    liveSocket("/ws/global/", function (message) {
      if (message.type === "stats") {
        feed.querySelectorAll("[data-stat]").forEach(function (element) {
          var value = element.dataset.stat.split(".").reduce(function (obj, key) { return obj && obj[key]; }, message);
          if (value !== undefined) element.textContent = value;
        });
      } else if (message.type === "poll.created") {
        var item = document.createElement("li");
        var link = document.createElement("a");
        var when = document.createElement("time");
        link.href = "/p/" + encodeURIComponent(message.poll.slug) + "/";
        link.textContent = message.poll.title; // text, never HTML: titles are user input
        when.className = "when";
        when.dateTime = new Date().toISOString();
        when.textContent = "just now";
        item.append(link, when);
        activity.prepend(item);
        activityEmpty.hidden = true;
        while (activity.children.length > 5) activity.lastElementChild.remove();
      }
    }, function (connected) {
      feed.dataset.live = connected ? "on" : "off";
      liveLabel.hidden = !connected;
    });
    setInterval(function () {
      activity.querySelectorAll("time").forEach(function (when) {
        var minutes = Math.floor((Date.now() - Date.parse(when.dateTime)) / 60000);
        when.textContent = minutes < 1 ? "just now" : minutes + " min ago";
      });
    }, 30000);
  }

  // --- Dates ---
  // The server writes UTC (accounts/templatetags/when.py); each <time data-when> moves to the reader's zone.
  var zone = window.Intl ? Intl.DateTimeFormat().resolvedOptions().timeZone : "";
  var times = document.querySelectorAll("time[data-when]");
  if (zone && times.length) {
    var thisYear = String(new Date().getFullYear());
    var inParts = new Intl.DateTimeFormat("en-GB", {
      weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
    // As the server writes it: "Wed 3 Dec, 14:00", the year only when not this one.
    var format = function (date, withClock) {
      var part = {};
      inParts.formatToParts(date).forEach(function (p) { part[p.type] = p.value; });
      var words = part.weekday + " " + part.day + " " + part.month + (part.year === thisYear ? "" : " " + part.year);
      return withClock ? words + ", " + part.hour + ":" + part.minute : words;
    };
    // As the server words it: "yesterday" rather than "1 day ago".
    var units = [["second", 1, 45], ["minute", 60, 45], ["hour", 3600, 22], ["day", 86400, 6],
      ["week", 604800, 4], ["month", 2592000, 11], ["year", 31536000, Infinity]];
    var relative = Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat("en-GB", { numeric: "auto" }) : null;
    var relativeWords = function (date) {
      var seconds = (date.getTime() - Date.now()) / 1000;
      var unit, count;
      for (var i = 0; i < units.length; i++) {
        unit = units[i];
        count = Math.round(Math.abs(seconds) / unit[1]);
        if (count < unit[2]) break;
      }
      if (unit[0] === "second") count = 0;
      return relative.format(seconds < 0 ? -count : count, unit[0]);
    };
    var rewrite = function () {
      times.forEach(function (time) {
        var date = new Date(time.getAttribute("datetime"));
        if (isNaN(date.getTime())) return;
        var style = time.dataset.when;
        time.title = format(date, true) + " (" + zone + ")";
        if (style === "relative" && relative) time.textContent = relativeWords(date);
        else if (style === "day") time.textContent = format(date, false);
        else if (style === "date") time.textContent = format(date, true);
      });
    };
    rewrite();
    if (document.querySelector('time[data-when="relative"]')) setInterval(rewrite, 60000);
  }

  // The closing time, now in the browser's zone, which goes along with the form (polls/forms.py).
  var zoneField = document.querySelector('input[name="timezone"][data-local-zone="unset"]');
  if (zone && zoneField) {
    var closing = zoneField.form.querySelector('input[name="expires_at"]');
    var two = function (n) { return String(n).padStart(2, "0"); };
    if (closing && closing.value) {
      var at = new Date(closing.value + "Z");
      if (!isNaN(at.getTime())) {
        closing.value = at.getFullYear() + "-" + two(at.getMonth() + 1) + "-" + two(at.getDate()) +
          "T" + two(at.getHours()) + ":" + two(at.getMinutes());
      }
    }
    zoneField.value = zone;
    zoneField.dataset.localZone = zone;
    var help = closing && document.getElementById(closing.id + "_helptext");
    if (help) help.textContent = help.textContent.replace(/^In UTC\./, "In your time zone (" + zone + ").");
  }
})();
