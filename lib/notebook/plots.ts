import * as fs from "node:fs";
import { randomBytes } from "node:crypto";

/** A plotly figure as plotly.js takes it. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

let plotlySource: string | undefined;
let plotlyTag: string | undefined;

/** plotly.js-dist-min's bundle as text (it cannot run in Node; it is inlined into the HTML). */
export function plotlyJsSource(): string {
  plotlySource ??= fs.readFileSync(require.resolve("plotly.js-dist-min"), "utf8");
  return plotlySource;
}

/**
 * A `<script>` that defines `window.Plotly` offline, unless a page already has it. require.js (Jupyter)
 * and CommonJS globals are hidden while the bundle runs, so it always takes its browser-global branch.
 * scripts/nbtool.py finds the bundle by this wrapper to keep one copy per exported file.
 */
export function plotlyScriptTag(): string {
  plotlyTag ??=
    "<script>(function(){if(window.Plotly)return;" +
    "var d=window.define,m=window.module;window.define=undefined;window.module=undefined;try{\n" +
    plotlyJsSource().replace(/<\/script/gi, "<\\/script") +
    "\n}finally{window.define=d;window.module=m;}})();</script>";
  return plotlyTag;
}

/**
 * The HTML that draws a figure: a div and a script calling Plotly.newPlot.
 * @param options.includePlotlyJs inline plotly.js before the figure, so that it draws without any other output
 *   on the page (a re-run cell, a reloaded notebook, any export); exporters keep one copy per file
 */
export function figureHtml(figure: PlotlyFigure, options: { includePlotlyJs?: boolean; id?: string } = {}): string {
  const id = options.id ?? `plot-${randomBytes(6).toString("hex")}`;
  const json = (value: unknown) => JSON.stringify(value ?? {}).replace(/</g, "\\u003c");
  const height = typeof figure.layout?.height === "number" ? figure.layout.height : 420;
  const config = { responsive: true, displaylogo: false, ...figure.config };
  return (
    (options.includePlotlyJs ? plotlyScriptTag() : "") +
    `<div id="${id}" class="mnist-lab-plot" style="width:100%;height:${height}px;"></div>` +
    `<script>(function(){var el=document.getElementById(${json(id)});` +
    `if(!window.Plotly){el.textContent="plotly.js is not loaded: this figure was exported without it.";return;}` +
    `window.Plotly.newPlot(el,${json(figure.data)},${json(figure.layout)},${json(config)});})();</script>`
  );
}

/** Grouped bar chart of images per class, one series per split (the report's class-distribution figure). */
export function classDistributionFigure(counts: Record<string, number[]>): PlotlyFigure {
  const digits = Array.from({ length: 10 }, (_, d) => String(d));
  return {
    data: Object.entries(counts).map(([name, values]) => ({
      type: "bar",
      name,
      x: digits,
      y: values,
      text: values.map(String),
      textposition: "outside",
      cliponaxis: false, // keep the tallest bar's label visible
    })),
    layout: {
      title: { text: "Images per class" },
      barmode: "group",
      xaxis: { title: { text: "digit" }, type: "category" },
      yaxis: { title: { text: "images" } },
      height: 420,
    },
  };
}
