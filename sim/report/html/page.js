// meshsim HTML report: draws the charts of one saved meshsim JSON (run, compare, sweep or report)
// with Chart.js. Embedded in the page by the binary (cmake/html_assets.cmake); the data is the
// JSON block with id "meshsim-data". Every number drawn is read from that
// JSON or is plain arithmetic on it (days = steps x step time / 86400); nothing is invented.
// After drawing, each chart's <figure> carries data-points (x positions) and data-datasets, and
// <body> carries data-status="done" and data-charts; errors are counted by the handler that the
// page installs before this script (data-errors), so a headless browser can check the page.
(function () {
  "use strict";
  var COLORS = {
    compute: "#4e79a7",
    recompute: "#f28e2b",
    optimizer: "#76b7b2",
    model: "#e15759",
    data: "#59a14f",
    other: "#bab0ac",
    memory: "#4e79a7",
    capacity: "#e15759",
    days: "#f28e2b",
    efficiency: "#59a14f",
    doubling: "#b07aa1"
  };
  var BREAKDOWN = [
    ["compute", "compute (forward + backward)"],
    ["recompute", "recompute"],
    ["optimizer", "optimizer"],
    ["model", "exposed model-axis communication"],
    ["data", "exposed data-axis communication"],
    ["other", "other (idle, waiting, bubble)"]
  ];

  function num(v) {
    return typeof v === "number" && isFinite(v) ? v : 0;
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  var charts = 0;
  // One chart in its own <figure>: a title, a caption, and the data-* attributes a test reads.
  function chart(id, title, caption, config) {
    var figure = el("figure", { id: id });
    figure.appendChild(el("h2", {}, title));
    var box = el("div", { class: "chart-box" });
    var canvas = el("canvas");
    box.appendChild(canvas);
    figure.appendChild(box);
    if (caption) figure.appendChild(el("figcaption", {}, caption));
    document.getElementById("charts").appendChild(figure);
    config.options = config.options || {};
    config.options.animation = false;
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    new Chart(canvas, config);
    figure.setAttribute("data-points", String(config.data.labels.length));
    figure.setAttribute("data-datasets", String(config.data.datasets.length));
    charts += 1;
    return figure;
  }
  function note(text) {
    document.getElementById("charts").appendChild(el("p", { class: "note" }, text));
  }

  // Step-time parts of one plan. compute_s is the compute stream's busy time, which includes
  // recompute and the optimizer update (docs/run-json.md); "other" is what is left of the step.
  function parts(step, compute, recompute, optimizer, model, data) {
    var own = Math.max(0, compute - recompute - optimizer);
    var rest = Math.max(0, step - compute - model - data);
    return { compute: own, recompute: recompute, optimizer: optimizer, model: model, data: data,
             other: rest };
  }
  function breakdownChart(labels, rows, caption) {
    var datasets = BREAKDOWN.filter(function (b) {
      return rows.some(function (r) { return r[b[0]] > 0; });
    }).map(function (b) {
      return { label: b[1], backgroundColor: COLORS[b[0]],
               data: rows.map(function (r) { return r[b[0]]; }) };
    });
    chart("chart-breakdown", "Step time per plan (seconds)", caption, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: { indexAxis: "y",
                 scales: { x: { stacked: true, title: { display: true, text: "seconds per step" } },
                           y: { stacked: true } } }
    });
  }
  function memoryChart(labels, used, capacity, caption, stacks) {
    var datasets = stacks || [{ label: "memory per chip (GB)", backgroundColor: COLORS.memory,
                                data: used.map(function (b) { return b / 1e9; }), stack: "m" }];
    datasets.push({ type: "line", label: "HBM capacity (GB)", borderColor: COLORS.capacity,
                    backgroundColor: COLORS.capacity, borderDash: [6, 4], pointRadius: 0,
                    data: capacity.map(function (b) { return b / 1e9; }) });
    chart("chart-memory", "Memory per chip against HBM", caption, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: { scales: { x: { stacked: true },
                           y: { stacked: true, beginAtZero: true,
                                title: { display: true, text: "GB per chip" } } } }
    });
  }
  // "#2 256x1 remat=none mb=4 fsdp sync=last": the choices that tell ranked plans apart (the
  // ones at their defaults left out).
  function planLabel(p, i) {
    return "#" + (i + 1) + " " + p.mesh + " remat=" + p.remat + " mb=" + p.microbatches +
           (p.fsdp ? " fsdp" : "") + (p.async === false ? " async=off" : "") +
           (p.sharding && p.sharding !== "auto" ? " " + p.sharding : "") +
           (p.optimizer && p.optimizer !== "adam" ? " " + p.optimizer : "") +
           (p.grad_sync === "last" ? " sync=last" : "") +
           (p.attention === "flash" ? " flash" : "") +
           (p.activation_layout === "replicated" ? " replicated" : "");
  }
  function sweepPlanParts(p) {
    return parts(num(p.step_time_s), num(p.compute_s), num(p.recompute_s), 0,
                 num(p.exposed_model_axis_s), num(p.exposed_data_axis_s));
  }

  function scalingCharts(doc) {
    var points = (doc.scaling && doc.scaling.points) || [];
    var drawn = points.filter(function (p) { return p.simulated && p.step_time_s > 0; });
    var missing = points.filter(function (p) { return !(p.simulated && p.step_time_s > 0); });
    if (drawn.length === 0) {
      note("No scaling point could be simulated.");
      return;
    }
    var steps = num(doc.inputs && doc.inputs.steps);
    var labels = drawn.map(function (p) { return String(p.chips); });
    chart("chart-scaling", "Throughput and days to train against chip count",
          "Tokens per second (left) and days for " + steps.toLocaleString("en-US") +
          " steps (right) at each chip count; each point keeps the best plan's model axis and " +
          "scales the data axis (docs/report.md).", {
      type: "line",
      data: { labels: labels, datasets: [
        { label: "tokens/s", yAxisID: "y", borderColor: COLORS.compute,
          backgroundColor: COLORS.compute, data: drawn.map(function (p) { return p.tokens_per_s; }) },
        { label: "days to train", yAxisID: "y1", borderColor: COLORS.days,
          backgroundColor: COLORS.days,
          data: drawn.map(function (p) { return steps * p.step_time_s / 86400; }) }
      ] },
      options: { scales: {
        x: { title: { display: true, text: "chips" } },
        y: { position: "left", beginAtZero: true, title: { display: true, text: "tokens/s" } },
        y1: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
              title: { display: true, text: "days" } } } }
    });
    var stop = doc.scaling.stops_scaling_at_chips;
    chart("chart-efficiency", "Scaling efficiency",
          "Per-chip throughput against the smallest point, and the doubling efficiency (throughput " +
          "ratio / chip ratio against the previous point); scaling stops below 0.8. " +
          (stop ? "Stops scaling at " + stop + " chips: " + doc.scaling.why
                : "Scales to the end of the curve."), {
      type: "line",
      data: { labels: labels, datasets: [
        { label: "efficiency", borderColor: COLORS.efficiency, backgroundColor: COLORS.efficiency,
          data: drawn.map(function (p) { return p.efficiency; }) },
        { label: "doubling efficiency", borderColor: COLORS.doubling,
          backgroundColor: COLORS.doubling,
          data: drawn.map(function (p) { return p.doubling_efficiency; }) },
        { label: "stop threshold (0.8)", borderColor: COLORS.capacity, borderDash: [6, 4],
          pointRadius: 0, data: drawn.map(function () { return 0.8; }) }
      ] },
      options: { scales: { x: { title: { display: true, text: "chips" } },
                           y: { min: 0, suggestedMax: 1.1 } } }
    });
    missing.forEach(function (p) {
      note(p.chips + " chips: not plotted (" + (p.reason || "not simulated") + ")");
    });
    return drawn;
  }

  function reportPage(doc) {
    var top = doc.top_plans || [];
    var drawn = scalingCharts(doc) || [];
    if (top.length > 0) {
      breakdownChart(top.map(planLabel), top.map(sweepPlanParts),
                     "The report's top plans at " + doc.inputs.chips + " chips. The optimizer " +
                     "update is counted in compute (the report's plans do not split it out).");
    }
    var rows = top.map(function (p, i) { return { label: planLabel(p, i), m: p.memory }; })
      .concat(drawn.map(function (p) {
        return { label: p.chips + " chips " + p.mesh, m: p.memory };
      }))
      .filter(function (r) { return r.m; });
    if (rows.length > 0) {
      memoryChart(rows.map(function (r) { return r.label; }),
                  rows.map(function (r) { return num(r.m.per_chip_bytes); }),
                  rows.map(function (r) { return num(r.m.capacity_bytes); }),
                  "Top plans, then the scaling points.");
    }
    timelineCharts(doc.layer_timeline, "the best plan");
  }

  // The timeline of one layer on one chip (layer_timeline in the JSON, docs/run-json.md): one
  // chart per pass, one row per track, one floating bar per slice of the trace, in milliseconds
  // from the pass's first compute slice. Slices that began long before (a prefetched weight
  // all-gather) are drawn from the left edge; the caption counts them.
  var TIMELINE_COLORS = {
    "compute": "#4e79a7",
    "recompute": "#f28e2b",
    "model-axis sends": "#e15759",
    "model-axis collectives": "#ff9d9a",
    "model-axis receives": "#b07aa1",
    "data-axis collectives": "#59a14f",
    "waiting": "#bab0ac"
  };
  function timelineCharts(tl, whose) {
    if (!tl || !tl.passes || tl.passes.length === 0) {
      note("No timeline of one layer in this document (saved by an older meshsim); " +
           "`meshsim run --trace FILE` writes a full trace for Perfetto.");
      return;
    }
    var where = "chip " + tl.chip + " (data " + tl.data_index + ", model " + tl.model_index +
                (tl.stage !== null && tl.stage !== undefined ? ", stage " + tl.stage : "") + ")";
    tl.passes.forEach(function (p) {
      var ms = function (s) { return s * 1e3; };
      // The left edge: 10% of the span before the first compute slice, rounded to a whole
      // power-of-ten step in milliseconds.
      var leftMs = -0.1 * ms(p.span_s);
      var unit = Math.pow(10, Math.floor(Math.log10(Math.abs(leftMs) || 1)));
      leftMs = Math.floor(leftMs / unit) * unit;
      var left = leftMs / 1e3;
      var early = 0;
      var before = [];
      var keys = [];
      var byKey = {};
      p.events.forEach(function (e) {
        if (e.start_s + e.duration_s <= left) {
          // Over before the window opens (prefetched): named in the caption, not drawn.
          before.push(e.op + " (" + e.track + ") from " + ms(e.start_s).toFixed(2) + " to " +
                      ms(e.start_s + e.duration_s).toFixed(2) + " ms");
          return;
        }
        var key = e.category === "wait" ? "waiting"
                  : e.pass === "recompute" && e.track === "compute" ? "recompute" : e.track;
        if (!byKey[key]) { byKey[key] = []; keys.push(key); }
        var start = e.start_s;
        if (start < left) { early += 1; start = left; }
        byKey[key].push({ x: [ms(start), ms(Math.max(start, e.start_s + e.duration_s))],
                          y: e.track, op: e.op, from: ms(e.start_s), dur: ms(e.duration_s),
                          bytes: e.bytes, flop: e.flop, peer: e.peer });
      });
      var rows = tl.tracks.filter(function (t) {
        return keys.some(function (k) {
          return byKey[k].some(function (d) { return d.y === t; });
        });
      });
      var datasets = keys.map(function (k) {
        return { label: k, data: byKey[k], grouped: false, borderSkipped: false,
                 backgroundColor: TIMELINE_COLORS[k] || COLORS.other, barPercentage: 0.8,
                 categoryPercentage: 1.0 };
      });
      var figure = chart("chart-timeline-" + p.pass,
          "Layer " + tl.layer + ", " + p.pass +
          (p.events.some(function (e) { return e.pass === "recompute"; }) ? " with recompute"
                                                                          : "") +
          ", on " + where,
          "Microbatch " + tl.microbatch + " of " + whose + "; milliseconds from the pass's first " +
          "compute slice (step time " + p.origin_s.toFixed(4) + " s); the span is " +
          ms(p.span_s).toFixed(2) + " ms. " +
          (early > 0 ? early + " slice(s) began before the left edge and are drawn from it. "
                     : "") +
          (before.length > 0 ? "Done before the pass, not drawn: " + before.join("; ") + ". "
                             : "") +
          "Hover a bar for its op, bytes and FLOP.", {
        type: "bar",
        data: { labels: rows, datasets: datasets },
        options: {
          indexAxis: "y",
          scales: { x: { min: leftMs, title: { display: true, text: "milliseconds" } },
                    y: { stacked: false } },
          plugins: { tooltip: { callbacks: { label: function (c) {
            var r = c.raw;
            return r.op + ": " + r.from.toFixed(3) + " ms + " + r.dur.toFixed(3) + " ms" +
                   (r.bytes ? ", " + (r.bytes / 1e6).toFixed(2) + " MB" : "") +
                   (r.flop ? ", " + (r.flop / 1e9).toFixed(1) + " GFLOP" : "") +
                   (r.peer !== undefined ? ", peer chip " + r.peer : "");
          } } } }
        }
      });
      figure.setAttribute("data-events", String(p.events.length - before.length));
      figure.setAttribute("data-before", String(before.length));
    });
  }

  function sweepPage(doc) {
    var plans = doc.plans || [];
    if (plans.length === 0) {
      note("No plan fits.");
      return;
    }
    breakdownChart(plans.map(planLabel), plans.map(sweepPlanParts),
                   "The sweep's top plans. The optimizer update is counted in compute.");
    memoryChart(plans.map(planLabel),
                plans.map(function (p) { return num(p.memory && p.memory.per_chip_bytes); }),
                plans.map(function (p) { return num(p.memory && p.memory.capacity_bytes); }),
                "");
  }

  function runParts(r) {
    var c = r.critical_path || {};
    return parts(num(r.step_time_s), num(c.compute_s), num(c.recompute_s), num(c.optimizer_s),
                 num(c.exposed_model_s), num(c.exposed_data_s));
  }
  var MEMORY_PARTS = [
    ["weights_bytes", "weights", "#4e79a7"],
    ["weight_gather_buffer_bytes", "weight gather buffer", "#a0cbe8"],
    ["master_weights_bytes", "fp32 master weights", "#f28e2b"],
    ["optimizer_state_bytes", "optimizer state", "#ffbe7d"],
    ["gradients_bytes", "gradients", "#59a14f"],
    ["gradient_buffer_bytes", "gradient buffer", "#8cd17d"],
    ["activations_bytes", "activations", "#b07aa1"],
    ["runtime_reserve_bytes", "runtime reserve", "#bab0ac"]
  ];
  function runPages(runs, names) {
    breakdownChart(names, runs.map(runParts),
                   "The critical (slowest) chip's step: its compute stream split into forward + " +
                   "backward, recompute and optimizer, then the communication it waited for.");
    var stacks = MEMORY_PARTS.map(function (m) {
      return { label: m[1], backgroundColor: m[2], stack: "m",
               data: runs.map(function (r) {
                 return num(r.memory && r.memory.breakdown && r.memory.breakdown[m[0]]) / 1e9;
               }) };
    }).filter(function (d) { return d.data.some(function (v) { return v > 0; }); });
    memoryChart(names, runs.map(function (r) { return num(r.memory && r.memory.per_chip_bytes); }),
                runs.map(function (r) { return num(r.memory && r.memory.capacity_bytes); }), "",
                stacks);
    var r0 = runs[0];
    var linears = r0.linears || [];
    if (linears.length > 0) {
      var pass = function (name, key, field) {
        return linears.map(function (l) { return num(l[key] && l[key][field]); });
      };
      chart("chart-layer", "One layer on the critical chip, per linear (" + names[0] + ")",
            "Compute, collective time and the part of it left exposed, forward and backward, " +
            "per linear of one layer.", {
        type: "bar",
        data: { labels: linears.map(function (l) { return l.name; }), datasets: [
          { label: "forward compute", backgroundColor: "#4e79a7", data: pass("f", "forward", "compute_s") },
          { label: "forward communication", backgroundColor: "#a0cbe8", data: pass("f", "forward", "comm_s") },
          { label: "forward exposed", backgroundColor: "#e15759", data: pass("f", "forward", "exposed_s") },
          { label: "backward compute", backgroundColor: "#59a14f", data: pass("b", "backward", "compute_s") },
          { label: "backward communication", backgroundColor: "#8cd17d", data: pass("b", "backward", "comm_s") },
          { label: "backward exposed", backgroundColor: "#ff9d9a", data: pass("b", "backward", "exposed_s") }
        ] },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: "seconds per layer" } } } }
      });
    }
    timelineCharts(r0.layer_timeline, names[0]);
  }

  function main() {
    var doc = JSON.parse(document.getElementById("meshsim-data").textContent);
    var schema = doc.schema;
    if (schema === "meshsim.report/v1") reportPage(doc);
    else if (schema === "meshsim.sweep/v1") sweepPage(doc);
    else if (schema === "meshsim.run/v1") runPages([doc], [doc.plan ? doc.plan.name : "run"]);
    else if (schema === "meshsim.compare/v1")
      runPages(doc.plans, doc.plans.map(function (p, i) {
        return "#" + (i + 1) + " " + (p.plan ? p.plan.name + " " + p.plan.mesh : "");
      }));
    else throw new Error("unknown schema " + schema);
  }

  try {
    main();
  } finally {
    document.body.setAttribute("data-charts", String(charts));
    document.body.setAttribute("data-status", "done");
  }
})();
