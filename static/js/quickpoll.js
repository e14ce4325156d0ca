// Progressive enhancements: every page works without this file.
(function () {
  "use strict";

  // The page's language: /jsi18n/ (Django's JavaScriptCatalog, loaded before this file) defines gettext,
  // ngettext, pgettext and interpolate in it; should it fail to load, English.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var pgettext = window.pgettext || function (context, text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, key) { return String(values[key]); });
  };
  var say = function (format, values) { return interpolate(format, values, true); };
  var pageLanguage = document.documentElement.lang || "en";
  var numbers = window.Intl ? new Intl.NumberFormat(pageLanguage) : { format: String };

  var announcer = document.querySelector("[data-announcer]");

  function announce(text) {
    if (announcer) announcer.textContent = text;
  }

  // Reconnects with backoff unless the server said "go away" (4xxx; 4503 means "come back soon") or the page
  // called the stop function it returns (a deck moved on to another poll). A server that is stopping closes
  // with 1012 (Service Restart): the socket comes back at once, through the proxy to a server still up, each
  // page after its own random moment so that a whole room does not knock at once; onState(false) (the page
  // showing itself offline) only if that takes a while.
  var SERVICE_RESTART = 1012;
  var RESTART_JITTER = [250, 2000]; // ms: the reconnect after a 1012 comes somewhere in between
  var RESTART_QUIET = 4000; // ms: how long a 1012 reconnect may take before the page says it is offline
  function liveSocket(path, onMessage, onState) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var delay = 1000;
    var socket = null;
    var stopped = false;
    var offline = null; // the timer that, after a 1012, says offline if no socket is back by then
    function quiet() {
      clearTimeout(offline);
      offline = null;
    }
    function connect() {
      // An embed's voter has no cookie: their anon_id (see "Embed") rides as a subprotocol (polls.voters).
      var anonId = document.documentElement.dataset.anonId;
      socket = anonId ? new WebSocket(scheme + location.host + path, ["anon", anonId]) : new WebSocket(scheme + location.host + path);
      socket.onopen = function () { delay = 1000; quiet(); if (onState) onState(true); };
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (error) { return; }
        onMessage(message);
      };
      socket.onclose = function (event) {
        if (stopped) return;
        if (event.code === SERVICE_RESTART) {
          if (!offline) offline = setTimeout(function () { offline = null; if (onState) onState(false); }, RESTART_QUIET);
          setTimeout(connect, RESTART_JITTER[0] + Math.random() * (RESTART_JITTER[1] - RESTART_JITTER[0]));
          return;
        }
        quiet();
        if (onState) onState(false);
        if (event.code >= 4000 && event.code < 5000 && event.code !== 4503) return;
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    connect();
    return function stop() {
      stopped = true;
      quiet();
      if (socket) socket.close();
    };
  }

  // --- Poll page: option cards that fill with live results ---
  // Snapshot parts (templates/polls/_results.html) are copied into the cards, so a half-filled ballot stays.
  // An open-text poll's answers (templates/polls/_answers.html) are swapped whole. Returns what stops the socket.
  function livePoll(poll) {
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
      if (next.querySelector("[data-answers]")) {
        fillAnswers(poll, shown, next);
        return;
      }
      next.querySelectorAll(".option-card[data-option-id]").forEach(function (card) {
        var here = shown.querySelector('.option-card[data-option-id="' + card.dataset.optionId + '"]');
        if (!here) return;
        ["is-leader", "is-winner", "is-out"].forEach(function (name) {
          here.classList.toggle(name, card.classList.contains(name));
        });
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
      // Whole blocks (a ranked poll's rounds), only where the page shows them: not inside a ballot form.
      next.querySelectorAll("[data-results-extra]").forEach(function (block) {
        var old = shown.querySelector('[data-results-extra="' + block.dataset.resultsExtra + '"]');
        if (old) old.replaceWith(block);
      });
      shown.classList.add("has-results");
      shown.querySelectorAll("[data-irv]").forEach(function (section) { stepThrough(section, true); });
    };

    var seal = function (reason) {
      // The poll's rule now hides results from this viewer: the cards keep only their options.
      results.querySelectorAll("[data-option-share], .option-bar, [data-results-extra], [data-answers]").forEach(function (part) { part.remove(); });
      results.querySelectorAll(".is-leader, .is-winner, .is-out").forEach(function (card) {
        card.classList.remove("is-leader", "is-winner", "is-out");
      });
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

    var stop = liveSocket("/ws/poll/" + poll.dataset.pollId + "/", function (message) {
      if (message.type === "results" && message.version > version) {
        version = message.version;
        fill(message.html);
        if (likes) likes.textContent = message.likes_count;
      } else if (message.type === "results_hidden") {
        seal(message.reason);
      } else if (message.type === "presentation.changed") {
        // The audience's results come as results or results_hidden; a presenter screen shows the change itself.
        poll.dispatchEvent(new CustomEvent("quickpoll:poll-changed", { bubbles: true, cancelable: true }));
      } else if (message.type === "poll.closed" || message.type === "poll.updated") {
        // The presenter screen ("Presenter" below) brings itself up to date instead: a reload ends full screen.
        if (poll.dispatchEvent(new CustomEvent("quickpoll:poll-changed", { bubbles: true, cancelable: true }))) {
          announce(gettext("This poll changed; reloading."));
          location.reload();
        }
      } else if (message.type === "poll.deleted") {
        results.textContent = gettext("This poll has been deleted.");
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
    return stop;
  }

  // --- Poll page: open-text answers ---
  // A snapshot's answers replace the shown ones whole (a long list stays open if it was); a manager's Hide
  // buttons, which snapshots (the same for everyone) leave out, come back from the page's template.
  function fillAnswers(poll, shown, next) {
    var wasOpen = shown.querySelector("[data-answer-more][open]");
    if (wasOpen) next.querySelectorAll("[data-answer-more]").forEach(function (more) { more.open = true; });
    // From the page's template, or (the presenter screen has none) from a row the server drew with its button.
    var hideForm = poll.querySelector("template[data-answer-hide-form]");
    var sample = hideForm ? hideForm.content.firstElementChild : shown.querySelector(".answer-hide");
    if (sample) {
      next.querySelectorAll(".answer-rank[data-answer-key]").forEach(function (row) {
        var form = sample.cloneNode(true);
        var button = form.querySelector("button");
        form.querySelector('input[name="key"]').value = row.dataset.answerKey;
        button.setAttribute("aria-label", say(gettext("Hide “%(answer)s”"), { answer: row.querySelector(".answer-text").textContent }));
        row.append(form);
      });
    }
    shown.replaceWith(next);
  }

  // The answer box counts down the characters left (the input's maxlength stops typing at the limit).
  function answerCounter(form) {
    var input = form.querySelector('input[name="answer"]');
    var counter = form.querySelector("[data-answer-counter]");
    if (!input || !counter || !counter.querySelector("[data-answer-left]")) return;
    var max = parseInt(counter.dataset.max, 10);
    var words = counter.querySelector("[data-answer-left]");
    var count = function () {
      var left = max - input.value.length;
      words.textContent = left + (left === 1 ? " character" : " characters") + " left";
      counter.classList.toggle("is-low", left <= Math.min(10, Math.ceil(max / 5)));
    };
    input.addEventListener("input", count);
    count();
  }

  // --- Poll page: ranked ballot ---
  // Without this script the voter ranks with one select per option. Here the cards become two lists, "Your
  // ranking" and "Not ranked", sorted by dragging a card's handle (pointer events: mouse, pen and touch), by
  // keyboard on the handle (Space or Enter picks up, arrows move, Space drops, Escape puts back) or by the cards'
  // buttons. Every move rewrites the selects, so the form posts exactly what the lists show.
  var ordinal = function (n) {
    var tens = n % 100, ones = n % 10;
    // English suffixes here; other languages write theirs in the catalogue ("1.", "1.º").
    if (pageLanguage.slice(0, 2) !== "en") return say(pgettext("ordinal number", "%(number)s."), { number: n });
    return n + (tens >= 11 && tens <= 13 ? "th" : ones === 1 ? "st" : ones === 2 ? "nd" : ones === 3 ? "rd" : "th");
  };
  var element = function (tag, className, text) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    if (text) made.textContent = text;
    return made;
  };

  function sortableRanking(ranked) {
    var form = ranked.closest("form");
    var max = parseInt(ranked.dataset.maxChoices, 10) || ranked.children.length;
    var cards = Array.prototype.slice.call(ranked.children);
    var pool = element("ul", "option-cards ranked-cards ranking-pool");
    var title = element("h2", "ranking-title");
    var poolTitle = element("h2", "ranking-title", gettext("Not ranked"));
    var empty = element("p", "ranking-empty", gettext("Nothing ranked yet: add options from the list below, or drag them up here."));
    var fullNote = element("p", "ranking-full meta", gettext("Your ranking is full: remove an option to add another."));
    var keys = element("p", "visually-hidden", gettext("Press Space or Enter to pick the option up, the arrow keys to move it, " +
      "Space to drop it, Escape to put it back."));
    var help = form.querySelector("#ranking-help");
    var drag = null;
    var grabbed = null;

    title.id = "ranking-title";
    poolTitle.id = "pool-title";
    keys.id = "ranking-keys";
    ranked.classList.add("ranking-list");
    ranked.setAttribute("aria-labelledby", "ranking-title");
    pool.setAttribute("aria-labelledby", "pool-title");
    ranked.before(title);
    ranked.after(empty, fullNote, poolTitle, pool, keys);
    ranked.closest("[data-results]").classList.add("is-sortable");
    if (help) {
      help.textContent = gettext("Put the options in your order of preference: drag them by the handle, or use the buttons. " +
        "Options left under “Not ranked” get none of your vote. If your first choice is knocked out, your vote moves to your next one.");
    }

    var textOf = function (card) { return card.querySelector(".option-text").textContent; };
    var selectOf = function (card) { return card.querySelector(".rank-select"); };
    var rankedCards = function () { return Array.prototype.slice.call(ranked.children); };
    var where = function (card) {
      var count = ranked.children.length;
      return say(gettext("position %(position)s of %(count)s"), { position: rankedCards().indexOf(card) + 1, count: count });
    };

    // The pool keeps the poll's own order.
    var toPool = function (card) {
      var after = Array.prototype.find.call(pool.children, function (other) { return +other.dataset.order > +card.dataset.order; });
      pool.insertBefore(card, after || null);
    };

    var sync = function () {
      var inRanking = rankedCards();
      var full = inRanking.length >= max;
      inRanking.forEach(function (card, index) {
        var tools = card.rankTools;
        selectOf(card).value = String(index + 1);
        tools.number.textContent = String(index + 1);
        tools.handle.setAttribute("aria-label", say(gettext("%(option)s: %(place)s of %(count)s in your ranking"),
          { option: textOf(card), place: ordinal(index + 1), count: inRanking.length }));
        tools.up.hidden = tools.down.hidden = tools.remove.hidden = false;
        tools.up.disabled = index === 0;
        tools.down.disabled = index === inRanking.length - 1;
        tools.add.hidden = true;
      });
      Array.prototype.forEach.call(pool.children, function (card) {
        var tools = card.rankTools;
        selectOf(card).value = "";
        tools.number.textContent = "";
        tools.handle.setAttribute("aria-label", say(gettext("%(option)s: not ranked"), { option: textOf(card) }));
        tools.up.hidden = tools.down.hidden = tools.remove.hidden = true;
        tools.add.hidden = false;
        tools.add.disabled = full;
      });
      title.textContent = !inRanking.length ? gettext("Your ranking")
        : max < cards.length ? say(gettext("Your ranking (%(count)s of %(max)s)"), { count: inRanking.length, max: max })
          : say(gettext("Your ranking (%(count)s)"), { count: inRanking.length });
      empty.hidden = inRanking.length > 0;
      fullNote.hidden = !full || pool.children.length === 0;
      poolTitle.hidden = pool.hidden = pool.children.length === 0;
    };

    // After a move the focused control may have left the document or be disabled now: keep the focus on the card.
    var refocus = function (card, control) {
      (control && !control.hidden && !control.disabled ? control : card.rankTools.handle).focus();
    };

    var moveBy = function (card, step) {
      var other = step < 0 ? card.previousElementSibling : card.nextElementSibling;
      if (card.parentNode !== ranked || !other) return false;
      ranked.insertBefore(card, step < 0 ? other : other.nextElementSibling);
      return true;
    };

    var addToRanking = function (card, before) {
      if (card.parentNode !== ranked && ranked.children.length >= max) {
        announce(gettext("Your ranking is full: remove an option first."));
        return false;
      }
      ranked.insertBefore(card, before || null);
      return true;
    };

    var tool = function (card, className, text, label, action) {
      var button = element("button", "secondary small " + className, text);
      button.type = "button";
      // Named for what it does, described by its option: "Move up", "Remove", "Add to my ranking".
      if (label) {
        button.setAttribute("aria-label", label);
        button.title = label;
      }
      button.setAttribute("aria-describedby", card.querySelector(".option-text").id);
      button.addEventListener("click", function () {
        if (action() === false) return;
        sync();
        refocus(card, button);
      });
      return button;
    };

    var clearMarks = function () {
      form.querySelectorAll(".drop-before").forEach(function (card) { card.classList.remove("drop-before"); });
      ranked.classList.remove("drop-end");
      pool.classList.remove("drop-here");
    };

    // Where a card dragged to this height would land: a place in the ranking, the pool, or nowhere (a full ranking).
    var spotAt = function (card, y) {
      if (pool.children.length && !pool.hidden && y > poolTitle.getBoundingClientRect().top) {
        return card.parentNode === pool ? null : { list: pool };
      }
      if (card.parentNode !== ranked && ranked.children.length >= max) return null;
      var before = rankedCards().find(function (other) {
        var box = other.getBoundingClientRect();
        return other !== card && y < box.top + box.height / 2;
      });
      if (before && before === card.nextElementSibling && card.parentNode === ranked) return null;
      if (!before && card === ranked.lastElementChild) return null;
      return { list: ranked, before: before || null };
    };

    var equip = function (card, index) {
      var body = card.querySelector(".option-body");
      var handle = element("button", "rank-handle");
      var number = element("span", "rank-number");
      var tools = element("span", "rank-tools");
      var grip = element("span", "rank-grip", "⠿");
      grip.setAttribute("aria-hidden", "true");
      handle.type = "button";
      handle.setAttribute("aria-describedby", "ranking-keys");
      handle.append(grip, number);
      card.dataset.order = String(index);
      card.rankTools = {
        handle: handle,
        number: number,
        up: tool(card, "icon rank-up", "↑", gettext("Move up"), function () {
          if (!moveBy(card, -1)) return false;
          announce(say(gettext("%(option)s moved to %(where)s"), { option: textOf(card), where: where(card) }));
        }),
        down: tool(card, "icon rank-down", "↓", gettext("Move down"), function () {
          if (!moveBy(card, 1)) return false;
          announce(say(gettext("%(option)s moved to %(where)s"), { option: textOf(card), where: where(card) }));
        }),
        remove: tool(card, "rank-remove", gettext("Remove"), "", function () {
          toPool(card);
          announce(textOf(card) + " removed from your ranking");
        }),
        add: tool(card, "rank-add", gettext("Add to my ranking"), "", function () {
          if (!addToRanking(card)) return false;
          announce(textOf(card) + " added to your ranking, " + where(card));
        })
      };
      tools.append(card.rankTools.up, card.rankTools.down, card.rankTools.remove, card.rankTools.add);
      body.prepend(handle);
      body.querySelector(".rank-field").after(tools);

      handle.addEventListener("keydown", function (event) {
        var key = event.key;
        if (grabbed !== card) {
          if (key !== " " && key !== "Enter") return;
          event.preventDefault();
          var origin = { list: card.parentNode, next: card.nextElementSibling };
          if (card.parentNode === pool && !addToRanking(card)) return;
          grabbed = card;
          card.origin = origin;
          card.classList.add("is-grabbed");
          handle.setAttribute("aria-pressed", "true");
          sync();
          handle.focus();
          announce(say(gettext("%(option)s picked up, %(where)s. Arrow keys move it, Space drops it, Escape puts it back."),
            { option: textOf(card), where: where(card) }));
          return;
        }
        if (key === "ArrowUp" || key === "ArrowDown") {
          event.preventDefault();
          var up = key === "ArrowUp";
          if (moveBy(card, up ? -1 : 1)) {
            sync();
            handle.focus();
            announce(say(gettext("%(option)s moved to %(where)s"), { option: textOf(card), where: where(card) }));
          } else {
            announce(say(up ? gettext("%(option)s is already first") : gettext("%(option)s is already last"), { option: textOf(card) }));
          }
        } else if (key === " " || key === "Enter" || key === "Tab") {
          if (key !== "Tab") event.preventDefault();
          drop(card, say(gettext("%(option)s dropped at %(where)s"), { option: textOf(card), where: where(card) }));
        } else if (key === "Escape") {
          event.preventDefault();
          card.origin.list.insertBefore(card, card.origin.next);
          drop(card, card.parentNode === ranked
            ? say(gettext("Move cancelled: %(option)s is back at %(where)s"), { option: textOf(card), where: where(card) })
            : say(gettext("Move cancelled: %(option)s is not ranked"), { option: textOf(card) }));
          handle.focus();
        }
      });

      // Focus leaving the picked-up card (a click elsewhere) drops it where it is; a move re-focuses it at once.
      handle.addEventListener("blur", function () {
        setTimeout(function () {
          if (grabbed === card && document.activeElement !== handle) drop(card, say(gettext("%(option)s dropped at %(where)s"), { option: textOf(card), where: where(card) }));
        }, 0);
      });

      var drop = function (card, words) {
        grabbed = null;
        card.classList.remove("is-grabbed");
        card.rankTools.handle.removeAttribute("aria-pressed");
        sync();
        announce(words);
      };

      // Dragging moves nothing until the drop: a line shows where the card would land, the card follows the pointer.
      handle.addEventListener("pointerdown", function (event) {
        if (event.button !== 0 || grabbed) return;
        handle.setPointerCapture(event.pointerId);
        drag = { card: card, startY: event.clientY, spot: null };
        card.classList.add("is-dragging");
      });
      handle.addEventListener("pointermove", function (event) {
        if (!drag || drag.card !== card) return;
        event.preventDefault();
        card.style.setProperty("--qp-drag-y", (event.clientY - drag.startY) + "px");
        clearMarks();
        drag.spot = spotAt(card, event.clientY);
        if (!drag.spot) return;
        if (drag.spot.list === pool) pool.classList.add("drop-here");
        else if (drag.spot.before) drag.spot.before.classList.add("drop-before");
        else ranked.classList.add("drop-end");
      });
      var endDrag = function (event) {
        if (!drag || drag.card !== card) return;
        var spot = event.type === "pointerup" ? drag.spot : null;
        drag = null;
        clearMarks();
        card.classList.remove("is-dragging");
        card.style.removeProperty("--qp-drag-y");
        if (!spot) return;
        if (spot.list === pool) {
          toPool(card);
          announce(textOf(card) + " removed from your ranking");
        } else {
          addToRanking(card, spot.before);
          announce(say(gettext("%(option)s moved to %(where)s"), { option: textOf(card), where: where(card) }));
        }
        sync();
        handle.focus();
      };
      handle.addEventListener("pointerup", endDrag);
      handle.addEventListener("pointercancel", endDrag);
    };

    cards.forEach(equip);
    // Start from the selects: a refused or changed ballot comes back as it was.
    cards.filter(function (card) { return !selectOf(card).value; }).forEach(function (card) { pool.append(card); });
    rankedCards().sort(function (a, b) { return selectOf(a).value - selectOf(b).value; })
      .forEach(function (card) { ranked.append(card); });
    sync();
    form.addEventListener("submit", sync);
  }

  // --- Poll page: instant-runoff rounds ---
  // Without this script every round is listed. Here one shows at a time with Previous and Next, and the option
  // cards' bars move to that round's counts. A live snapshot with new rounds replays them from the first.
  var stillMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var replay = null;

  function stepThrough(section, live) {
    var rounds = Array.prototype.slice.call(section.querySelectorAll("[data-irv-round]"));
    var steps = section.querySelector("[data-irv-steps]");
    var shown = section.closest("[data-results]");
    clearInterval(replay);
    if (!rounds.length || !steps || !shown) return;
    var position = steps.querySelector("[data-irv-position]");
    var back = steps.querySelector('[data-irv-step="-1"]');
    var next = steps.querySelector('[data-irv-step="1"]');
    var last = rounds.length;
    var current = last;
    var finals = [];
    var outIn = {};
    rounds.forEach(function (round) {
      var out = round.querySelector("tr.is-out");
      if (out) outIn[out.dataset.optionId] = round.dataset.irvRound;
    });
    shown.querySelectorAll(".option-card").forEach(function (card) {
      var share = card.querySelector("[data-option-share]");
      var bar = card.querySelector(".option-bar");
      if (share && bar) finals.push({ card: card, share: share.cloneNode(true), classes: card.className, value: bar.value });
    });

    var paint = function (number) {
      var round = rounds[number - 1];
      finals.forEach(function (final) {
        var card = final.card;
        var share = final.share.cloneNode(true);
        var bar = card.querySelector(".option-bar");
        card.querySelector("[data-option-share]").replaceWith(share);
        card.className = final.classes;
        bar.value = final.value;
        if (number === last) return;
        var row = round.querySelector('tr[data-option-id="' + card.dataset.optionId + '"]');
        var label = share.querySelector(".option-leading");
        if (label) label.remove();
        card.classList.remove("is-leader", "is-winner");
        if (row) {
          var votes = parseInt(row.dataset.votes, 10);
          card.classList.remove("is-out");
          share.querySelector(".option-percent").textContent = numbers.format(parseFloat(row.dataset.percentage)) + "%";
          share.querySelector(".option-count").textContent = say(ngettext("%(count)s vote", "%(count)s votes", votes), { count: numbers.format(votes) });
          bar.value = parseFloat(row.dataset.percentage);
        } else {
          card.classList.add("is-out");
          share.querySelector(".option-percent").textContent = gettext("Out");
          share.querySelector(".option-count").textContent = say(gettext("in round %(round)s"), { round: outIn[card.dataset.optionId] || 1 });
          bar.value = 0;
        }
      });
    };

    var show = function (number) {
      current = number;
      rounds.forEach(function (round, index) { round.hidden = index + 1 !== number; });
      position.textContent = say(gettext("Round %(number)s of %(last)s"), { number: number, last: last });
      back.disabled = number === 1;
      next.disabled = number === last;
      paint(number);
    };

    back.addEventListener("click", function () { clearInterval(replay); if (current > 1) show(current - 1); });
    next.addEventListener("click", function () { clearInterval(replay); if (current < last) show(current + 1); });
    steps.hidden = false;
    section.classList.add("is-stepped");
    show(last);
    // New rounds arrived live: play the count from the first round, unless the reader asked for less motion.
    if (live && last > 1 && !stillMotion && String(last) !== shown.dataset.seenRounds) {
      show(1);
      replay = setInterval(function () {
        show(current + 1);
        if (current >= last) clearInterval(replay);
      }, 1200);
    }
    shown.dataset.seenRounds = String(last);
  }


  // --- Copy a link ---
  // Without the clipboard API the link stays in a read-only box.
  function copyButtons(root) {
  root.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    var label = button.textContent;
    var reset;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = gettext("Copied");
        button.classList.add("copied");
        announce(button.dataset.copied || gettext("Link copied"));
        clearTimeout(reset);
        reset = setTimeout(function () {
          button.textContent = label;
          button.classList.remove("copied");
        }, 2000);
      }, function () {
        source.focus();
        source.select();
        announce(gettext("Copying was refused: the link is selected, copy it with your keyboard"));
      });
    });
  });
  root.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  }

  // --- Confirm before destructive posts ---
  // A view that asks again without JavaScript is told the dialog already asked.
  function confirmFirst(root) {
  root.querySelectorAll("form[data-confirm]").forEach(function (form) {
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
  }

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
        input.placeholder = say(gettext("Option %(number)s"), { number: index + 1 });
        item.querySelector("label").textContent = input.placeholder;
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
      tool(item, gettext("Move up"), "↑", function (it) { if (it.previousElementSibling) list.insertBefore(it, it.previousElementSibling); });
      tool(item, gettext("Move down"), "↓", function (it) { if (it.nextElementSibling) list.insertBefore(it.nextElementSibling, it); });
      tool(item, gettext("Remove option"), "✕", function (it) {
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
          if (value !== undefined) element.textContent = numbers.format(value);
        });
      } else if (message.type === "poll.created") {
        var item = document.createElement("li");
        var link = document.createElement("a");
        var when = document.createElement("time");
        link.href = "/p/" + encodeURIComponent(message.poll.slug) + "/";
        link.textContent = message.poll.title; // text, never HTML: titles are user input
        when.className = "when";
        when.dateTime = new Date().toISOString();
        when.textContent = gettext("just now");
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
        when.textContent = minutes < 1 ? gettext("just now") : say(gettext("%(minutes)s min ago"), { minutes: minutes });
      });
    }, 30000);
  }

  // --- Presenter ---
  // The presenter screen (templates/polls/present.html). Its buttons are plain forms; here they and the host's
  // keys (R, O, F, the arrows, ?) post without leaving the page, so full screen stays on: the answer is the
  // screen again, whose [data-presenter-part] blocks replace these. Another poll in the answer (a deck moved)
  // loads the page, so its live results follow the new poll. The results stay live through "Poll page" above,
  // which also says when the poll or its presentation changed elsewhere (a phone used as a remote, say).
  var presenter = document.querySelector("[data-presenter]");
  if (presenter) {
    var presenterSays = presenter.querySelector("[data-presenter-announcer]");
    var keysDialog = presenter.querySelector("[data-presenter-keys]");
    var keysButton = presenter.querySelector("[data-presenter-keys-open]");
    var fullButton = presenter.querySelector("[data-fullscreen]");
    var sending = false;

    var stateWords = function (root) {
      return Array.prototype.map.call(root.querySelectorAll("[data-presenter-state]"), function (state) {
        return state.parentNode.querySelector("dt").textContent + ": " + state.firstChild.textContent.trim();
      });
    };

    // The changed state lines (or the refusal) are read out; the focus stays on the control that was used.
    var swap = function (html) {
      var answer = new DOMParser().parseFromString(html, "text/html").querySelector("[data-presenter]");
      if (!answer || answer.dataset.pollId !== presenter.dataset.pollId) {
        location.reload();
        return;
      }
      var before = stateWords(presenter);
      var focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.control : null;
      presenter.className = answer.className;
      presenter.querySelectorAll("[data-presenter-part]").forEach(function (part) {
        var fresh = answer.querySelector('[data-presenter-part="' + part.dataset.presenterPart + '"]');
        if (fresh) part.replaceWith(document.adoptNode(fresh));
      });
      // The results as the answer drew them: a closed poll's final count, an edited poll's options.
      var results = presenter.querySelector("[data-live-results]");
      var freshResults = answer.querySelector("[data-live-results]");
      if (results && freshResults) {
        results.replaceChildren.apply(results, Array.prototype.slice.call(freshResults.childNodes).map(function (node) {
          return document.adoptNode(node);
        }));
      }
      equip();
      var refusal = presenter.querySelector('[data-presenter-part] [role="alert"]');
      var changed = stateWords(presenter).filter(function (line) { return before.indexOf(line) < 0; });
      // A second look (the socket's news of the host's own change) finds nothing new: what was said stands.
      if (refusal || changed.length) presenterSays.textContent = refusal ? refusal.textContent : changed.join(". ");
      var again = focused && presenter.querySelector('[data-control="' + focused + '"]');
      if (again) again.focus();
    };

    // A press while a post is on its way waits for its answer, then presses that control as the answer drew it
    // (R pressed twice quickly reveals, then hides).
    var waiting = null;
    var send = function (form) {
      var control = form.querySelector("[data-control]");
      if (sending) {
        waiting = control ? control.dataset.control : null;
        return;
      }
      sending = true;
      // getAttribute: the forms' own "action" input shadows form.action.
      fetch(form.getAttribute("action"), { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) {
          // A refused button answers 400 with the screen and its reason; anything else is left to a plain post.
          if (!response.ok && response.status !== 400) throw new Error(String(response.status));
          return response.text();
        })
        .then(swap)
        .catch(function () { form.submit(); })
        .then(function () {
          sending = false;
          var next = waiting && presenter.querySelector('[data-control="' + waiting + '"]');
          waiting = null;
          if (next && !next.disabled) send(next.form);
        });
    };

    presenter.addEventListener("quickpoll:poll-changed", function (event) {
      event.preventDefault();
      fetch(location.href, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(swap, function () { location.reload(); });
    });

    presenter.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.getAttribute("method") !== "post") return; // the shortcuts dialog closes itself
      event.preventDefault();
      send(form);
    });

    var fullScreen = function () {
      if (document.fullscreenElement) document.exitFullscreen();
      else presenter.requestFullscreen().catch(function () { announce(gettext("This browser refused full screen.")); });
    };
    var showKeys = function () {
      if (keysDialog.open) keysDialog.close();
      else keysDialog.showModal();
    };

    // Buttons that need this script appear with it; they are set up again after each swap.
    var equip = function () {
      fullButton = presenter.querySelector("[data-fullscreen]");
      keysButton = presenter.querySelector("[data-presenter-keys-open]");
      if (document.fullscreenEnabled) {
        fullButton.hidden = false;
        fullButton.firstChild.textContent = (document.fullscreenElement ? gettext("Leave full screen") : gettext("Full screen")) + " ";
        fullButton.onclick = fullScreen;
      }
      keysButton.hidden = !keysDialog.showModal;
      keysButton.onclick = showKeys;
    };
    equip();
    document.addEventListener("fullscreenchange", equip);

    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented || keysDialog.open) return;
      if (event.target.closest("input, select, textarea, [contenteditable], summary")) return;
      var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      if (key === "?") {
        showKeys();
      } else if (key === "f" && !fullButton.hidden) {
        fullScreen();
      } else {
        var control = presenter.querySelector('[data-shortcut="' + key + '"]');
        if (!control) return;
        if (!control.disabled) send(control.form);
      }
      event.preventDefault();
    });

    // The live results bring the number of voters (their summary's count): the big number follows it.
    var voters = presenter.querySelector("[data-presenter-voters]");
    var liveResults = presenter.querySelector("[data-live-results]");
    if (voters && liveResults && window.MutationObserver) {
      new MutationObserver(function () {
        var count = liveResults.querySelector("[data-results-summary] strong");
        if (count) voters.textContent = count.textContent;
      }).observe(liveResults, { childList: true, subtree: true });
    }
  }

  // --- Dates ---
  // The server writes the account's zone (data-zone) or UTC (accounts/templatetags/when.py). Times in UTC move
  // to the reader's zone; the account's stay. localDates() rewrites every one (again after a deck swaps a poll in).
  var zone = window.Intl ? Intl.DateTimeFormat().resolvedOptions().timeZone : "";
  var localDates = function () {};
  if (zone && document.querySelector("time[data-when]")) {
    var thisYear = String(new Date().getFullYear());
    var inParts = new Intl.DateTimeFormat(pageLanguage === "en" ? "en-GB" : pageLanguage, {
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
    var relative = Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(pageLanguage === "en" ? "en-GB" : pageLanguage, { numeric: "auto" }) : null;
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
    var rewrite = localDates = function () {
      document.querySelectorAll("time[data-when]").forEach(function (time) {
        var date = new Date(time.getAttribute("datetime"));
        if (isNaN(date.getTime())) return;
        var style = time.dataset.when;
        if (style === "relative" && relative) time.textContent = relativeWords(date);
        if (time.dataset.zone) return;  // the account's own zone, written by the server
        time.title = format(date, true) + " (" + zone + ")";
        if (style === "day") time.textContent = format(date, false);
        else if (style === "date") time.textContent = format(date, true);
      });
    };
    rewrite();
    if (document.querySelector('time[data-when="relative"]')) setInterval(rewrite, 60000);
  }
  // The footer says which zone times are in; a new account starts in the browser's (accounts/forms.py).
  var zoneNote = document.querySelector("[data-zone-note][data-browser-words]");
  if (zone && zoneNote) zoneNote.textContent = zoneNote.dataset.browserWords.replace("{zone}", zone);
  document.querySelectorAll("input[data-browser-zone]").forEach(function (input) { input.value = zone; });

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
    var inUtc = gettext("In UTC.");
    if (help && help.textContent.indexOf(inUtc) === 0) {
      help.textContent = say(gettext("In your time zone (%(zone)s)."), { zone: zone }) + help.textContent.slice(inUtc.length);
    }
  }

  // --- Enhance a page part ---
  // The page as loaded, and each poll a deck swaps in: one code path. Returns what stops the poll's socket.
  function enhance(root) {
    var poll = root.matches && root.matches("[data-poll]") ? root : root.querySelector("[data-poll]");
    var stop = poll ? livePoll(poll) : function () {};
    root.querySelectorAll("[data-ranking]").forEach(sortableRanking);
    root.querySelectorAll("[data-irv]").forEach(function (section) { stepThrough(section, false); });
    root.querySelectorAll("[data-answer-form]").forEach(answerCounter);
    copyButtons(root);
    confirmFirst(root);
    return stop;
  }

  var stopPoll = enhance(document);

  // Scripts in fetched HTML do not run: a proof-of-work slot gets its widget from the module already loaded,
  // or, the first time this page needs one, from the slot's own module scripts made anew (so they run).
  function proofOfWork(root) {
    if (!root.querySelector("[data-altcha-challenge]")) return;
    if (window.quickpollAltcha) {
      window.quickpollAltcha(root);
      return;
    }
    root.querySelectorAll("[data-altcha-challenge] script").forEach(function (old) {
      var script = document.createElement("script");
      script.type = old.type;
      script.async = false; // in order: the widget's module before our setup
      script.src = old.src;
      old.replaceWith(script);
    });
  }

  // --- Deck ---
  // A deck's audience page (templates/polls/deck_audience.html) follows the presenter: on each move it fetches the
  // new poll's own page, swaps its poll part in, enhances it as above, keeps the focus on the poll if it was there
  // and says what is showing. Without this script the page says to reload.
  var deck = document.querySelector("[data-deck]");
  if (deck) {
    var deckStep = deck.querySelector("[data-deck-step]");
    var followText = deck.querySelector("[data-deck-follow-text]");
    var deckLive = deck.querySelector("[data-deck-live]");
    // The server's own words ("reload for the current poll", a link), put back whenever the socket drops.
    var offline = Array.prototype.slice.call(followText.childNodes);
    var sayOffline = function () {
      followText.replaceChildren.apply(followText, offline.map(function (node) { return node.cloneNode(true); }));
    };
    var shownSlug = null;
    var asked = 0; // a newer move outruns a slower fetch

    // Forms in the poll part come back here after posting, not to the poll's own page (polls.views._back_to).
    var comeBackHere = function (root) {
      root.querySelectorAll('form[method="post"]').forEach(function (form) {
        if (form.querySelector('input[name="back"]')) return;
        var back = document.createElement("input");
        back.type = "hidden";
        back.name = "back";
        back.value = location.pathname;
        form.append(back);
      });
    };

    var showPoll = function (moved) {
      var ticket = ++asked;
      fetch(moved.poll.url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      }).then(function (html) {
        if (ticket !== asked) return;
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("[data-poll]");
        var shown = document.querySelector("[data-poll], [data-deck-waiting]");
        if (!fresh || !shown) throw new Error("no poll on the page");
        var hadFocus = shown.contains(document.activeElement) || document.activeElement === document.body;
        stopPoll();
        fresh = document.adoptNode(fresh);
        shown.replaceWith(fresh);
        stopPoll = enhance(fresh);
        comeBackHere(fresh);
        proofOfWork(fresh);
        localDates();
        shownSlug = moved.poll.slug;
        deck.dataset.deckPosition = String(moved.position);
        deckStep.textContent = say(gettext("Poll %(number)s of %(count)s"), { number: moved.position + 1, count: moved.count });
        document.title = moved.poll.title + " · " + deck.dataset.titleSuffix;
        var heading = fresh.querySelector("h1");
        if (hadFocus && heading) {
          heading.tabIndex = -1;
          heading.focus({ preventScroll: true });
        }
        if (fresh.getBoundingClientRect().top < 0) deck.scrollIntoView({ block: "start" });
        announce(say(gettext("Now showing: %(title)s"), { title: moved.poll.title }));
      }).catch(function () {
        // A poll that cannot be fetched (deleted, on hold) leaves the page as it is, with the reload hint.
        if (ticket === asked) sayOffline();
      });
    };

    var current = document.querySelector("[data-poll]");
    if (current) comeBackHere(current);
    liveSocket("/ws/deck/" + deck.dataset.deckId + "/", function (message) {
      if (message.type !== "deck.moved" || !message.poll) return;
      // The first message on connecting says where the deck is: a swap only if the page shows another poll.
      if (shownSlug === null && current && message.poll.id === current.dataset.pollId) {
        shownSlug = message.poll.slug;
        return;
      }
      if (message.poll.slug === shownSlug) return;
      showPoll(message);
    }, function (connected) {
      deckLive.hidden = !connected;
      if (connected) followText.textContent = gettext("Following the presenter: the next poll appears here by itself.");
      else sayOffline();
    });
  }

  // --- Embed ---
  // The embed page (templates/polls/embed.html) lives in other sites' frames, where it gets no cookies: its voter
  // is an anon_id kept in this frame's storage and sent as X-Anon-Id. The page asks the server again as that voter
  // (their ballot, results shown after voting), and a vote is posted here and its answer swapped in. Without this
  // script the form posts as a page.
  var embedded = document.querySelector("[data-embed]");
  if (embedded) {
    var ANON_KEY = "quickpoll-embed-voter";
    var storedVoter = function () {
      try { return localStorage.getItem(ANON_KEY) || ""; } catch (error) { return ""; }
    };
    var keepVoter = function (id) {
      document.documentElement.dataset.anonId = id;
      try { localStorage.setItem(ANON_KEY, id); } catch (error) { /* storage blocked: this visit only */ }
    };
    var askAsVoter = function (url, options) {
      var headers = { Accept: "text/html" };
      var id = document.documentElement.dataset.anonId;
      if (id) headers["X-Anon-Id"] = id;
      options.headers = headers;
      options.credentials = "omit";
      return fetch(url, options).then(function (response) {
        var issued = response.headers.get("X-Anon-Id");
        if (issued) keepVoter(issued);
        return response.text();
      }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-embed]");
        var shown = document.querySelector("[data-embed]");
        if (!fresh || !shown) throw new Error("no poll in the answer");
        var hadFocus = shown.contains(document.activeElement);
        stopPoll();
        fresh = document.adoptNode(fresh);
        shown.replaceWith(fresh);
        stopPoll = enhance(fresh);
        sendFromHere(fresh);
        proofOfWork(fresh);
        var focusOn = hadFocus && (fresh.querySelector(".vote-error, .answer-error, .embed-notice") || fresh.querySelector("h1 a"));
        if (focusOn) {
          if (focusOn.tagName === "P") focusOn.tabIndex = -1;
          focusOn.focus();
        }
      });
    };
    var sendFromHere = function (root) {
      root.querySelectorAll("[data-embed-form]").forEach(function (form) {
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          var button = form.querySelector('button[type="submit"]');
          if (button) button.disabled = true;
          askAsVoter(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) }).catch(function () {
            if (button) button.disabled = false;
            announce("Your vote could not be sent. Check your connection and try again.");
          });
        });
      });
    };
    sendFromHere(embedded);
    var known = storedVoter();
    if (known) {
      keepVoter(known);
      askAsVoter(location.pathname + location.search, { method: "GET" }).catch(function () { /* the page as loaded stays */ });
    }
  }

  // The deck editor's picker: the list's order is the deck's. Move up and Move down beside each poll; a typed
  // position moves its row there; the numbers always follow the ticked rows from the top.
  document.querySelectorAll("[data-deck-picks]").forEach(function (list) {
    var rows = function () { return Array.prototype.slice.call(list.children); };
    var renumber = function () {
      var count = 0;
      rows().forEach(function (row) {
        var picked = row.querySelector('input[type="checkbox"]').checked;
        row.querySelector(".deck-position").value = picked ? String(++count) : "";
        row.deckTools.up.disabled = !row.previousElementSibling;
        row.deckTools.down.disabled = !row.nextElementSibling;
      });
    };
    var titleOf = function (row) { return row.querySelector(".deck-pick-title").textContent; };
    var tool = function (row, text, label, step) {
      var button = element("button", "icon secondary small deck-move", text);
      button.type = "button";
      button.setAttribute("aria-label", label + ": " + titleOf(row));
      button.addEventListener("click", function () {
        var other = step < 0 ? row.previousElementSibling : row.nextElementSibling;
        if (!other) return;
        list.insertBefore(row, step < 0 ? other : other.nextElementSibling);
        renumber();
        (button.disabled ? row.querySelector('input[type="checkbox"]') : button).focus();
        announce(say(gettext("%(title)s moved to place %(place)s of %(count)s"), { title: titleOf(row), place: rows().indexOf(row) + 1, count: rows().length }));
      });
      return button;
    };
    rows().forEach(function (row) {
      var tools = element("span", "deck-move-tools");
      row.deckTools = { up: tool(row, "↑", gettext("Move up"), -1), down: tool(row, "↓", gettext("Move down"), 1) };
      tools.append(row.deckTools.up, row.deckTools.down);
      row.querySelector(".deck-pick-position").append(tools);
    });
    list.addEventListener("change", function (event) {
      if (event.target.classList.contains("deck-position")) {
        // Typed numbers order the ticked rows; the others keep their places below them.
        var number = function (row) { return parseInt(row.querySelector(".deck-position").value, 10) || Infinity; };
        var typed = event.target.closest(".deck-pick");
        if (event.target.value) typed.querySelector('input[type="checkbox"]').checked = true;
        rows().sort(function (a, b) {
          return number(a) - number(b) || (a === typed ? -1 : b === typed ? 1 : 0);
        }).forEach(function (row) { list.append(row); });
        event.target.focus();
      }
      renumber();
    });
    list.classList.add("enhanced");
    renumber();
  });
})();
