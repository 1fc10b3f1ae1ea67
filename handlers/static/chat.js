"use strict";
const log = document.getElementById("log");
const choicesBox = document.getElementById("choices");
const form = document.getElementById("send");
const input = document.getElementById("text");

function add(node, who) {
  const item = document.createElement("li");
  item.className = "msg " + who;
  item.appendChild(node);
  log.appendChild(item);
  item.scrollIntoView({ block: "end" });
}

function text(value) {
  const span = document.createElement("span");
  span.textContent = value;
  return span;
}

function card(message) {
  const box = document.createElement("div");
  box.className = "card";
  const title = document.createElement("h2");
  title.textContent = message.title;
  box.appendChild(title);
  if (message.body) box.appendChild(text(message.body));
  if (message.fields.length) {
    const list = document.createElement("dl");
    for (const [label, value] of message.fields) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      list.append(dt, dd);
    }
    box.appendChild(list);
  }
  if (message.footer) {
    const foot = document.createElement("p");
    foot.className = "footer";
    foot.textContent = message.footer;
    box.appendChild(foot);
  }
  return box;
}

function showChoices(choices) {
  choicesBox.replaceChildren();
  for (const choice of choices) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = choice.label;
    button.addEventListener("click", () => send({ postback: choice.data }, choice.label));
    choicesBox.appendChild(button);
  }
}

function show(messages) {
  let choices = null;
  for (const message of messages) {
    add(message.type === "card" ? card(message) : text(message.text), "bot");
    const offered = message.type === "card" ? [...message.buttons, ...message.choices] : message.choices;
    const unique = offered.filter((c, i) => offered.findIndex((d) => d.data === c.data) === i);
    if (unique.length) choices = unique;
  }
  if (choices) showChoices(choices);
}

async function send(payload, shown) {
  if (shown) add(text(shown), "me");
  choicesBox.replaceChildren();
  try {
    const response = await fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    show(data.messages);
  } catch (error) {
    add(text("送信できませんでした。時間をおいてもう一度お試しください。"), "bot");
  }
}

async function poll() {
  try {
    const response = await fetch("/api/chat/poll");
    if (response.ok) show((await response.json()).messages);
  } catch (error) { /* try again later */ }
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

send({ postback: "a=menu" });
setInterval(poll, 5000);
