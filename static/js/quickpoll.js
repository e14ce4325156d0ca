// QuickPoll's progressive enhancements. Every page works without this file:
// it adds live results, live notifications, copy-to-clipboard and a friendlier
// option editor on top of plain forms.
(function () {
  "use strict";

  var announcer = document.querySelector("[data-announcer]");

  function announce(text) {
    if (announcer) announcer.textContent = text;
  }

  // A socket that reconnects with backoff, unless the server said "go away" (4xxx codes;
  // 4503, the database briefly out of reach, means "come back soon").
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

  // --- Poll page: results that move live ------------------------------------------
  var poll = document.querySelector("[data-poll]");
  if (poll) {
    var results = poll.querySelector("[data-live-results]");
    var status = poll.querySelector("[data-live-status]");
    var likes = poll.querySelector("[data-likes]");
    var myVotes = (poll.dataset.myVotes || "").split(",").filter(Boolean);
    // The last check of a snapshot's order (realtime/events.py lists the others): a socket that
    // reconnects starts with no memory of what the page already shows.
    var version = -1;

    var markMine = function () {
      myVotes.forEach(function (id) {
        var bar = results.querySelector('[data-option-id="' + id + '"]');
        if (bar) bar.classList.add("mine");
      });
    };

    liveSocket("/ws/poll/" + poll.dataset.pollId + "/", function (message) {
      if (message.type === "results" && message.version > version) {
        version = message.version;
        results.innerHTML = message.html; // rendered and escaped by the server's template
        markMine();
        if (likes) likes.textContent = message.likes_count;
      } else if (message.type === "poll.closed" || message.type === "poll.updated") {
        announce("This poll changed; reloading.");
        location.reload();
      } else if (message.type === "poll.deleted") {
        results.textContent = "This poll has been deleted.";
      }
    }, function (connected) {
      if (status) status.hidden = !connected;
    });

    // Multiple choice with a limit: once the limit is reached, the other boxes rest.
    var form = poll.querySelector(".vote-form");
    if (form) {
      var limit = parseInt(form.dataset.maxChoices, 10);
      var boxes = form.querySelectorAll('input[type="checkbox"]');
      form.addEventListener("change", function () {
        var picked = form.querySelectorAll('input[type="checkbox"]:checked').length;
        boxes.forEach(function (box) { box.disabled = !box.checked && picked >= limit; });
      });
    }
  }

  // --- Copy a link ---------------------------------------------------------------------
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = "Copied";
        announce("Link copied");
      });
    });
  });

  // --- Confirm before destructive posts -------------------------------------------------
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // --- Create and edit: add, remove and reorder options ----------------------------------
  document.querySelectorAll("[data-option-list]").forEach(function (list) {
    if (list.querySelector("input:disabled")) return;
    var max = parseInt(list.dataset.maxOptions, 10);

    function renumber() {
      list.querySelectorAll("li").forEach(function (item, index) {
        var input = item.querySelector("input");
        input.placeholder = "Option " + (index + 1);
        item.querySelector("label").textContent = "Option " + (index + 1);
      });
      add.disabled = list.children.length >= max;
    }

    function tool(item, label, text, action) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "icon";
      button.textContent = text;
      button.setAttribute("aria-label", label);
      button.addEventListener("click", function () { action(item); renumber(); });
      item.appendChild(button);
    }

    function equip(item) {
      tool(item, "Move up", "↑", function (it) { if (it.previousElementSibling) list.insertBefore(it, it.previousElementSibling); });
      tool(item, "Move down", "↓", function (it) { if (it.nextElementSibling) list.insertBefore(it.nextElementSibling, it); });
      tool(item, "Remove option", "✕", function (it) { if (list.children.length > 2) it.remove(); });
    }

    var add = document.createElement("button");
    add.type = "button";
    add.className = "secondary";
    add.textContent = "Add an option";
    add.addEventListener("click", function () {
      var item = list.lastElementChild.cloneNode(true);
      item.querySelectorAll("button").forEach(function (b) { b.remove(); });
      var input = item.querySelector("input");
      input.value = "";
      input.id = input.id.replace(/-\d+$/, "-" + (list.children.length + 1));
      item.querySelector("label").htmlFor = input.id;
      list.appendChild(item);
      equip(item);
      renumber();
      input.focus();
    });
    list.querySelectorAll("li").forEach(equip);
    list.after(add);
    renumber();
  });

  var multiple = document.querySelector("#id_allow_multiple");
  var maxChoices = document.querySelector('[data-field="max_choices"]');
  if (multiple && maxChoices) {
    var sync = function () { maxChoices.hidden = !multiple.checked; };
    multiple.addEventListener("change", sync);
    sync();
  }

  // --- Notifications badge ----------------------------------------------------------------
  var userId = document.body.dataset.userId;
  var badge = document.querySelector("[data-notification-count]");
  if (userId && badge) {
    var showUnread = function (count) {
      badge.textContent = String(count);
      badge.hidden = count < 1;
    };
    liveSocket("/ws/user/" + userId + "/", function (message) {
      if (message.type === "notifications.read") {
        showUnread(message.unread);  // read here or in another tab: the server's count after the change
        return;
      }
      if (message.type === "notification.updated") {
        announce(message.notification.message);  // a grouped notice counted one more: already in the badge
        return;
      }
      if (message.type !== "notification") return;
      showUnread((parseInt(badge.textContent, 10) || 0) + 1);
      announce(message.notification.message);
    });
  }

  // --- Home page: live activity ------------------------------------------------------------
  var feed = document.querySelector("[data-global-feed]");
  if (feed) {
    var activity = feed.querySelector("[data-activity]");
    liveSocket("/ws/global/", function (message) {
      if (message.type === "stats") {
        feed.querySelectorAll("[data-stat]").forEach(function (element) {
          var value = element.dataset.stat.split(".").reduce(function (obj, key) { return obj && obj[key]; }, message);
          if (value !== undefined) element.textContent = value;
        });
      } else if (message.type === "poll.created") {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = "/p/" + encodeURIComponent(message.poll.slug) + "/";
        link.textContent = message.poll.title; // text, never HTML: titles are user input
        item.append("New poll: ", link);
        activity.prepend(item);
        while (activity.children.length > 5) activity.lastElementChild.remove();
      }
    });
  }
})();
