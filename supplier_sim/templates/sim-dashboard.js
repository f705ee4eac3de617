// The simulator's pages: the clock bar follows the clock, and each page adds its own handlers.
const SIM = {
  badge: (status) => OP.el("span", { class: "badge " + status, text: status }),
  statusClass: (status) => "status-" + Math.floor(status / 100) + "xx",
  orderLink: (orderId) => OP.el("a", { href: "/_sim/ui/orders/" + encodeURIComponent(orderId), text: orderId }),
};
OP.on("clock", (items) => {
  const last = items[items.length - 1];
  const now = document.getElementById("clock-now");
  if (!now) return;
  now.textContent = last.now;
  document.getElementById("clock-next").textContent = last.next || "none";
  const toNext = document.getElementById("clock-to-next");
  if (toNext) { toNext.dataset.json = JSON.stringify({ to: last.next }); toNext.disabled = !last.next; }
});
