/* blogbot chat widget. Embed with one tag:
 *   <script src="https://HOST/widget.js" data-title="Ask the blog" defer></script>
 * No dependencies, no build step. All text is inserted as text (never as HTML); the small
 * Markdown subset (paragraphs, lists, `code`, code blocks, **bold**, http/https links) is built
 * from DOM nodes. The session id and the transcript live in localStorage, so the conversation
 * survives page navigation and reloads.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__blogbotWidget) return;
  window.__blogbotWidget = true;
  var BASE = new URL(script.src, location.href).origin;
  var TITLE = script.getAttribute("data-title") || "Ask the blog";
  var KEY = "blogbot:" + BASE + ":";
  var store = {
    get: function (k, d) { try { var v = localStorage.getItem(KEY + k); return v === null ? d : JSON.parse(v); } catch (e) { return d; } },
    set: function (k, v) { try { localStorage.setItem(KEY + k, JSON.stringify(v)); } catch (e) { /* private mode: keep going */ } }
  };

  var CSS = [
    ".bb-root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2230}",
    ".bb-launcher{width:56px;height:56px;border-radius:50%;border:0;background:#2451d6;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}",
    ".bb-launcher:focus-visible,.bb-root button:focus-visible,.bb-root a:focus-visible,.bb-input:focus-visible{outline:3px solid #ffb000;outline-offset:2px}",
    ".bb-panel{position:absolute;right:0;bottom:70px;width:370px;height:560px;max-height:calc(100vh - 100px);display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden}",
    ".bb-panel[hidden]{display:none}",
    ".bb-head{display:flex;align-items:center;justify-content:space-between;padding:10px 14px;background:#2451d6;color:#fff}",
    ".bb-head h2{font-size:16px;margin:0}",
    ".bb-close{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}",
    ".bb-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f6f7fb}",
    ".bb-msg{max-width:88%;padding:8px 12px;border-radius:12px;word-wrap:break-word;overflow-wrap:anywhere}",
    ".bb-user{align-self:flex-end;background:#2451d6;color:#fff;white-space:pre-wrap}",
    ".bb-bot{align-self:flex-start;background:#fff;border:1px solid #e1e4ee}",
    ".bb-bot p{margin:0 0 6px}.bb-bot p:last-child{margin-bottom:0}.bb-bot ul,.bb-bot ol{margin:4px 0 6px;padding-left:20px}",
    ".bb-bot pre{background:#f0f2f7;padding:6px 8px;border-radius:6px;overflow-x:auto;font-size:13px}",
    ".bb-bot code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}",
    ".bb-bot a{color:#1a44c2}",
    ".bb-sources{margin:6px 0 0;padding:6px 0 0 20px;border-top:1px solid #eceef4;font-size:13px}",
    ".bb-buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}",
    ".bb-choice{border:1px solid #2451d6;background:#fff;color:#2451d6;border-radius:16px;padding:4px 10px;cursor:pointer;font:inherit;font-size:13px}",
    ".bb-choice:hover{background:#eef2ff}",
    ".bb-rate{display:flex;gap:4px;margin-top:6px;align-items:center;font-size:12px;color:#5b6275}.bb-rate button{border:1px solid #d5d9e6;background:#fff;border-radius:6px;cursor:pointer;font-size:14px;padding:1px 6px}",
    ".bb-rate button[aria-pressed=true]{background:#e3e9ff;border-color:#2451d6}",
    ".bb-typing{padding:0 14px 6px;font-size:13px;color:#5b6275;background:#f6f7fb}.bb-typing[hidden]{display:none}",
    ".bb-error{align-self:stretch;background:#fff4f2;border:1px solid #f2b8ad;color:#8a1f0f;border-radius:8px;padding:8px 10px;font-size:14px}",
    ".bb-error button{margin-left:8px}",
    ".bb-form{display:flex;gap:6px;padding:10px;border-top:1px solid #e1e4ee;background:#fff}",
    ".bb-input{flex:1;border:1px solid #c9cfdf;border-radius:8px;padding:8px;font:inherit}",
    ".bb-send{border:0;background:#2451d6;color:#fff;border-radius:8px;padding:0 14px;cursor:pointer;font:inherit}",
    ".bb-divider{align-self:center;font-size:12px;color:#5b6275;border-top:1px solid #d5d9e6;padding-top:4px;width:80%;text-align:center}",
    ".bb-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.bb-input{font-size:16px}.bb-root{right:12px;bottom:12px}.bb-panel{position:fixed;inset:0;width:auto;height:auto;max-height:none;border-radius:0}}"
  ].join("\n");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "class") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url, location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) { return null; }
  }

  function link(text, url) {
    var href = safeUrl(url);
    if (!href) return document.createTextNode(text);
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: text });
  }

  // Backslash escapes (a reader's words the bot echoes are escaped: they stay text).
  function unescape(text) { return text.replace(/\\([!-\/:-@\[-`{-~])/g, "$1"); }

  // Inline Markdown: \x escapes, `code`, **bold**, [text](url); everything else is text.
  function inline(text, parent) {
    var pattern = /\\([!-\/:-@\[-`{-~])|`([^`]+)`|\*\*((?:\\.|[^*\\])+)\*\*|\[((?:\\.|[^\]\\])+)\]\(([^)\s]+)\)/g;
    var last = 0, m;
    while ((m = pattern.exec(text)) !== null) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) parent.appendChild(document.createTextNode(m[1]));
      else if (m[2] !== undefined) parent.appendChild(el("code", { text: m[2] }));
      else if (m[3] !== undefined) parent.appendChild(el("strong", { text: unescape(m[3]) }));
      else parent.appendChild(link(unescape(m[4]), unescape(m[5])));
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
    return parent;
  }

  // Block Markdown: ``` code blocks, "- " and "1. " lists, paragraphs (blank lines between them;
  // a single line break within one).
  function markdown(text) {
    var root = document.createDocumentFragment();
    var lines = String(text || "").split("\n");
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      if (/^```/.test(line)) {
        var code = [];
        i++;
        while (i < lines.length && !/^```/.test(lines[i])) code.push(lines[i++]);
        i++;
        root.appendChild(el("pre", {}, [el("code", { text: code.join("\n") })]));
      } else if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
        var ordered = /^\s*\d+\./.test(line);
        var list = el(ordered ? "ol" : "ul");
        while (i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i])) {
          list.appendChild(inline(lines[i].replace(/^\s*([-*]|\d+\.)\s+/, ""), el("li")));
          i++;
        }
        root.appendChild(list);
      } else if (!line.trim()) {
        i++;
      } else {
        var para = [];
        while (i < lines.length && lines[i].trim() && !/^```/.test(lines[i]) && !/^\s*([-*]|\d+\.)\s+/.test(lines[i])) para.push(lines[i++]);
        var p = el("p");
        para.forEach(function (text, k) {        // a single line break stays one, as in Slack and the terminal
          if (k) p.appendChild(el("br"));
          inline(text, p);
        });
        root.appendChild(p);
      }
    }
    return root;
  }

  var root, launcher, panel, log, typing, input, sendButton, busy = false;
  var transcript = store.get("log", []);

  function save() { store.set("log", transcript.slice(-100)); }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function renderUser(text) {
    log.appendChild(el("div", { class: "bb-msg bb-user", text: text }));
    scrollDown();
  }

  function renderBot(message, live) {
    var bubble = el("div", { class: "bb-msg bb-bot", "data-message-id": message.id || "" });
    bubble.appendChild(markdown(message.text));
    var citations = message.citations || [];
    // A list of posts already links each one: a Sources block would repeat it.
    var listed = citations.length && citations.every(function (c) { return String(message.text).indexOf(c.url) >= 0; });
    if (citations.length && !listed) {
      var sources = el("ol", { class: "bb-sources", "aria-label": "Sources" });
      citations.forEach(function (c, index) {
        var item = el("li", { value: String(c.number || index + 1) });
        item.appendChild(link(c.title || c.url, c.url));
        sources.appendChild(item);
      });
      bubble.appendChild(sources);
    }
    var buttons = message.buttons || [];
    if (buttons.length && live) {
      var row = el("div", { class: "bb-buttons", role: "group", "aria-label": "Choices" });
      buttons.forEach(function (b) {
        var choice = el("button", { type: "button", class: "bb-choice", text: b.title });
        choice.addEventListener("click", function () { send({ button: b.payload }, b.title); });
        row.appendChild(choice);
      });
      bubble.appendChild(row);
    }
    if (message.id && (citations.length || message.abstained !== null && message.abstained !== undefined)) {
      bubble.appendChild(ratingRow(message));
    }
    log.appendChild(bubble);
    scrollDown();
    return bubble;
  }

  function ratingRow(message) {
    var row = el("div", { class: "bb-rate", role: "group", "aria-label": "Was this helpful?" },
      [el("span", { text: "Helpful?", "aria-hidden": "true" })]);
    [["up", "Yes", "Helpful"], ["down", "No", "Not helpful"]].forEach(function (r) {
      var pressed = message.rating === r[0];
      var b = el("button", { type: "button", "aria-label": r[2], "aria-pressed": String(pressed), "data-rating": r[0], text: r[1] });
      b.addEventListener("click", function () { rate(message, r[0], row); });
      row.appendChild(b);
    });
    return row;
  }

  function rate(message, rating, row) {
    fetch(BASE + "/api/feedback", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: store.get("session", null), message_id: message.id, rating: rating })
    }).then(function (response) {
      if (!response.ok) throw new Error("feedback " + response.status);
      message.rating = rating;
      save();
      Array.prototype.forEach.call(row.querySelectorAll("button"), function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-rating") === rating));
      });
    }).catch(function () { showError("Your rating could not be saved.", null); });
  }

  function showError(text, retry) {
    var box = el("div", { class: "bb-error", role: "alert" }, [document.createTextNode(text)]);
    if (retry) {
      var again = el("button", { type: "button", class: "bb-choice", text: "Retry" });
      again.addEventListener("click", function () { box.remove(); retry(); });
      box.appendChild(again);
    }
    log.appendChild(box);
    scrollDown();
  }

  function newConversationDivider() {
    Array.prototype.forEach.call(log.querySelectorAll(".bb-buttons, .bb-rate"), function (node) { node.remove(); });
    var divider = el("div", { class: "bb-divider", role: "separator", text: "New conversation" });
    var last = log.lastElementChild;
    var asked = last && last.classList.contains("bb-user") ? last : null;   // the message being answered
    log.insertBefore(divider, asked);
    transcript = asked ? transcript.slice(-1) : [];
    save();
  }

  function setBusy(value) {
    busy = value;
    typing.hidden = !value;
    typing.textContent = "The assistant is typing\u2026";
    sendButton.disabled = value;
  }

  // Server-Sent Events over fetch (EventSource cannot POST).
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(function (part) {
          var name = "message", data = "";
          part.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) name = line.slice(7);
            else if (line.indexOf("data: ") === 0) data += line.slice(6);
          });
          if (data) onEvent(name, JSON.parse(data));
        });
        return pump();
      });
    }
    return pump();
  }

  function send(body, shown) {
    if (busy) return;
    var session = store.get("session", null);
    if (session) body.session_id = session;
    if (shown) {
      renderUser(shown);
      transcript.push({ role: "user", text: shown });
      save();
    }
    setBusy(true);
    var draft = null, draftText = "", finished = false, failed = false;
    fetch(BASE + "/api/chat/stream", {
      method: "POST", headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) {
        failed = true;
        return response.json().catch(function () { return {}; }).then(function (problem) {
          var wait = response.headers.get("Retry-After");
          var retry = function () { send(body, null); };
          if (response.status === 429) showError("You're sending messages too fast. Try again in " + (wait || "a few") + " seconds.", retry);
          else if (response.status === 503) showError("The assistant is busy right now. Try again in " + (wait || "a few") + " seconds.", retry);
          else showError(problem.error || ("The assistant answered with an error (" + response.status + ")."), retry);
        });
      }
      return readEvents(response, function (name, data) {
        if (name === "session") {
          if (data.new_session && transcript.length && store.get("session", null)) {
            // The server forgot the old conversation (it timed out): say so, retire its buttons.
            newConversationDivider();
          }
          store.set("session", data.session_id);
        } else if (name === "token") {
          if (!draft) {
            draft = el("div", { class: "bb-msg bb-bot bb-draft", "aria-hidden": "true" });
            log.appendChild(draft);
          }
          draftText += data.text;
          draft.textContent = draftText;
          scrollDown();
        } else if (name === "notice") {
          typing.textContent = data.text;      // "taking longer than usual": shown, not kept
        } else if (name === "message") {
          if (draft) { draft.remove(); draft = null; draftText = ""; }
          renderBot(data, true);
          transcript.push({ role: "bot", message: data });
          save();
        } else if (name === "error") {
          if (draft) { draft.remove(); draft = null; }
          failed = true;
          showError(data.error || "Something went wrong.", function () { send(body, null); });
        } else if (name === "done") {
          finished = true;
        }
      }).then(function () {
        if (!finished && !failed) {
          if (draft) { draft.remove(); draft = null; }
          showError("The answer was cut off.", function () { send(body, null); });
        }
      });
    }).catch(function () {
      if (draft) draft.remove();
      showError("Can't reach the assistant. Check your connection.", function () { send(body, null); });
    }).then(function () { setBusy(false); });
  }

  function start() {
    setBusy(true);
    var session = store.get("session", null);
    fetch(BASE + "/api/chat/start", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(session ? { session_id: session } : {})
    }).then(function (response) {
      if (!response.ok) throw new Error("start " + response.status);
      return response.json();
    }).then(function (data) {
      store.set("session", data.session_id);
      data.messages.forEach(function (m) { renderBot(m, true); transcript.push({ role: "bot", message: m }); });
      save();
    }).catch(function () {
      showError("Can't reach the assistant. Check your connection.", start);
    }).then(function () { setBusy(false); });
  }

  function open(focus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    store.set("open", true);
    if (!transcript.length && !log.childNodes.length) start();
    scrollDown();
    if (focus !== false) input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    store.set("open", false);
    launcher.focus();
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z");
    svg.appendChild(path);
    return svg;
  }

  function build() {
    var style = el("style", { text: CSS });
    document.head.appendChild(style);
    root = el("div", { class: "bb-root" });
    launcher = el("button", { type: "button", class: "bb-launcher", "aria-label": "Open chat: " + TITLE,
      "aria-expanded": "false", "aria-controls": "bb-panel" }, [chatIcon()]);
    var heading = el("h2", { id: "bb-title", text: TITLE });
    var closer = el("button", { type: "button", class: "bb-close", "aria-label": "Close chat", text: "\u00D7" });
    log = el("div", { class: "bb-log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
    typing = el("div", { class: "bb-typing", role: "status", text: "The assistant is typing\u2026" });
    typing.hidden = true;
    input = el("input", { class: "bb-input", type: "text", "aria-label": "Your message", placeholder: "Ask a question\u2026",
      maxlength: "2048", autocomplete: "off" });
    sendButton = el("button", { type: "submit", class: "bb-send", text: "Send" });
    var form = el("form", { class: "bb-form" }, [input, sendButton]);
    panel = el("div", { class: "bb-panel", id: "bb-panel", role: "dialog", "aria-labelledby": "bb-title" },
      [el("div", { class: "bb-head" }, [heading, closer]), log, typing, form]);
    panel.hidden = true;
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
    closer.addEventListener("click", close);
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || busy) return;
      input.value = "";
      send({ text: text }, text);
    });

    transcript.forEach(function (item, index) {
      if (item.role === "user") renderUser(item.text);
      else renderBot(item.message, index === transcript.length - 1);
    });
    if (store.get("open", false)) open(false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
})();
