// Progressive enhancement only: the pages work without this. It ticks the exercise clock and
// adds new log entries to the timeline as the server sends them.
(function () {
  var box = document.getElementById("exercise");
  if (!box) return;
  var id = box.dataset.exercise, speed = parseFloat(box.dataset.speed) || 1;
  var baseMs = parseInt(box.dataset.ms, 10) || 0, loaded = Date.now();
  var clock = document.getElementById("clock");
  function label(ms) {
    var m = Math.floor(Math.max(ms, 0) / 60000), d = Math.floor(m / 1440), h = Math.floor(m / 60) % 24, mm = m % 60;
    var hhmm = String(h).padStart(2, "0") + ":" + String(mm).padStart(2, "0");
    return d > 0 ? "T+" + d + "d " + hhmm : "T+" + hhmm;
  }
  if (box.dataset.status === "running") {
    setInterval(function () { clock.textContent = label(baseMs + (Date.now() - loaded) * speed); }, 1000);
  }
  if (!window.EventSource) return;
  var timeline = document.getElementById("timeline"), banner = document.getElementById("live-banner");
  var source = new EventSource("/api/exercises/" + encodeURIComponent(id) + "/stream");
  source.addEventListener("entry", function (msg) {
    var e = JSON.parse(msg.data);
    var li = document.createElement("li");
    li.className = "fresh"; li.dataset.kind = e.kind;
    var stamp = document.createElement("span"); stamp.className = "stamp"; stamp.textContent = e.clock;
    li.appendChild(stamp);
    li.appendChild(document.createTextNode(" " + e.summary + (e.by ? " — " + e.by : "")));
    timeline.insertBefore(li, timeline.firstChild);
    if (banner) banner.hidden = false;
  });
  source.addEventListener("resync", function () { if (banner) banner.hidden = false; });
})();
