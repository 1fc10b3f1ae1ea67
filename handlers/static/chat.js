"use strict";
const log = document.getElementById("log");
const dock = document.getElementById("dock");
const choicesBox = document.getElementById("choices");
const form = document.getElementById("send");
const input = document.getElementById("text");
const shownIds = new Set();  // waiting messages already shown (acknowledged or about to be)
let focusOnChoices = false;  // a keyboard user picked a suggestion: the next ones get the focus
const FAILED = "送信できませんでした。時間をおいてもう一度お試しください。";

/* The desk's newest reply stays in view above the composer: after every turn, and whenever the
   composer or the list changes height (new choices, a taller text box, the phone's keyboard, a
   message laid out again once the font has loaded). A reply taller than the list is shown from its
   start, where it is read from, not from its end. */
function newestReplyStart() {
  const own = log.querySelectorAll(".msg.me");
  const after = own.length ? own[own.length - 1].nextElementSibling : log.firstElementChild;
  return after || log.lastElementChild;
}
function keepNewestInView() {
  const last = log.lastElementChild;
  if (!last) return;
  const start = newestReplyStart();
  const top = start.getBoundingClientRect().top;
  if (last.getBoundingClientRect().bottom - top > log.clientHeight) {
    const below = top - log.getBoundingClientRect().top;
    if (below > 0) {  // not read past yet: a keyboard opening while its end is read leaves it there
      log.scrollTop += below;
      start.scrollIntoView({ block: "start" });
    }
    return;
  }
  log.scrollTop = log.scrollHeight;
  last.scrollIntoView({ block: "end" });
}
const resized = new ResizeObserver(keepNewestInView);
resized.observe(dock);
resized.observe(log);
let watchedMessage = null;  // the newest message: it grows when the bundled font arrives
window.addEventListener("resize", keepNewestInView);

function add(node, who) {
  const item = document.createElement("li");
  item.className = "msg " + who;
  item.appendChild(node);
  log.appendChild(item);
  if (watchedMessage) resized.unobserve(watchedMessage);
  resized.observe(item);
  watchedMessage = item;
  keepNewestInView();
}

const PHONE_OR_WEB = /(0\d{1,4}-\d{1,4}-\d{3,4})|(https?:\/\/[!-~]*[A-Za-z0-9\/#=_~-])/g;  // ASCII only: Japanese after it is not the address

const EXAMPLE = /例[:：]\s*$/;  // 「（例: 090-1234-5678）」 shows how to write a number: nobody's to call

// Text as written; a phone number in it is a link that calls it, and does not break across lines;
// a web address (a group's site) opens in a new tab, telling that site nothing of this page.
function text(value) {
  const span = document.createElement("span");
  let from = 0;
  for (const found of value.matchAll(PHONE_OR_WEB)) {
    if (found[1] && EXAMPLE.test(value.slice(Math.max(0, found.index - 4), found.index))) continue;
    span.append(value.slice(from, found.index));
    const link = element("a", found[1] ? "tel" : "web", found[0]);
    link.href = found[1] ? "tel:" + found[1].replaceAll("-", "") : found[2];
    if (found[2]) {
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
    }
    span.append(link);
    from = found.index + found[0].length;
  }
  span.append(value.slice(from));
  return span;
}

function element(tag, className, value) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = value;
  return node;
}

function card(message, holdsButtons) {
  const box = element("div", "card", "");
  box.appendChild(element("h2", "", message.title));
  if (message.body) box.appendChild(text(message.body));
  if (message.fields.length) {
    const list = document.createElement("dl");
    for (const [label, value] of message.fields) {
      list.append(element("dt", "", label), element("dd", "", ""));
      list.lastElementChild.appendChild(text(value));  // a group's phone number calls on a tap
    }
    box.appendChild(list);
  }
  if (message.footer) box.appendChild(element("p", "footer", "")).appendChild(text(message.footer));
  if (holdsButtons) box.append(...message.buttons.map(choiceButton));  // この団体とつながりたい, 詳しく見る
  return box;
}

function choiceButton(choice) {
  const button = element("button", "", choice.label);
  button.type = "button";
  button.addEventListener("click", () => send({ postback: choice.data, label: choice.label }, choice.label));
  return button;
}

function showChoices(choices) {
  choicesBox.replaceChildren();
  for (const choice of choices) choicesBox.appendChild(choiceButton(choice));
  choicesBox.scrollTop = 0;
  if (focusOnChoices) (choicesBox.firstElementChild || input).focus();
  focusOnChoices = false;
}

function offered(message) {
  const inside = message.type === "card" && message.kind !== "group" ? message.buttons : [];  // group cards hold theirs
  const all = [...inside, ...message.choices];
  return all.filter((c, i) => all.findIndex((d) => d.data === c.data) === i);
}

// The strip shows the last message's choices; a card before it keeps its own buttons (助成金ナビ's
// programs, each with 詳しく見る), as a group card always does.
function show(messages) {
  const offers = messages.map(offered);
  const last = offers.map((choices) => choices.length > 0).lastIndexOf(true);
  messages.forEach((message, i) => {
    const holds = message.type === "card" && (message.kind === "group" || (i < last && message.buttons.length > 0));
    add(message.type === "card" ? card(message, holds) : text(message.text), "bot");
  });
  if (last >= 0) showChoices(offers[last]);
  keepNewestInView();  // at once: the composer's new height is laid out when the scroll is read
}

async function call(path, options) {
  const response = await fetch(path, { cache: "no-store", ...options });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || FAILED);
  return data;
}

function post(path, payload) {
  return call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
}

let tapping = null;  // the button being sent: a second tap of it (送信する tapped twice) is not sent again

async function send(payload, shown) {
  if (payload.postback && payload.postback === tapping) return;
  tapping = payload.postback || null;
  if (shown) add(element("span", "", shown), "me");  // the person's own words: nothing to tap
  focusOnChoices = choicesBox.contains(document.activeElement);
  choicesBox.replaceChildren();
  try {
    show((await post("/api/chat", payload)).messages);
  } catch (error) {
    add(text(error.message || FAILED), "bot");
    input.focus();
  } finally {
    tapping = null;
  }
}

async function poll() {
  try {
    const items = (await call("/api/chat/poll")).items.filter((item) => !shownIds.has(item.id));
    if (!items.length) return;
    for (const item of items) {
      shownIds.add(item.id);
      show(item.messages);
    }
    await post("/api/chat/ack", { ids: items.map((item) => item.id) });
  } catch (error) { /* offered again at the next poll */ }
}

/* A reloaded page shows the conversation so far, and says so when a form is half filled in. */
async function restore() {
  let history = { turns: [], draft: null };
  try { history = await call("/api/chat/history"); } catch (error) { /* start afresh */ }
  if (!history.turns.length && !history.draft) return send({ postback: "a=menu&v=hello" });  // greeted, with the menu
  for (const turn of history.turns) {
    if (turn.me) add(element("span", "", turn.me), "me");
    show(turn.messages);
  }
  if (history.turns.length) add(text("ここまでが前回の会話です。"), "note");
  if (history.draft) show([history.draft]);  // 「入力中の…があります。続けますか？」 with 続ける・やめる
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = input.value.trim();
  if (!value) return;
  input.value = "";
  send({ text: value }, value);
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

restore();
setInterval(poll, 5000);
