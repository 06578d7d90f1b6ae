import { randomBytes } from "node:crypto";

/** A plotly figure as plotly.js takes it. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** Where the project's Jupyter serves plotly.js, under the page's base URL (scripts/nbtool.py serve: static path). */
export const PLOTLY_STATIC_PATH = "static/plotly.min.js";

/**
 * The HTML that draws a figure: a div and a script calling Plotly.newPlot. It carries no plotly.js (4.8 MB per
 * figure made a run notebook weigh 15 MB): the page provides it. An export inlines it once in its head
 * (scripts/nbconvert/mnist-lab); a live Jupyter page (its body names `data-base-url`) gets it from the project's
 * Jupyter, loaded by the first figure that needs it. So a figure draws
 * whatever else is on the page: a re-run cell, a reloaded notebook, any export.
 */
export function figureHtml(figure: PlotlyFigure, options: { id?: string } = {}): string {
  const id = options.id ?? `plot-${randomBytes(6).toString("hex")}`;
  const json = (value: unknown) => JSON.stringify(value ?? {}).replace(/</g, "\\u003c");
  const height = typeof figure.layout?.height === "number" ? figure.layout.height : 420;
  const config = { responsive: true, displaylogo: false, ...figure.config };
  return (
    `<div id="${id}" class="mnist-lab-plot" style="width:100%;height:${height}px;"></div>` +
    `<script>(function(){var w=window,el=document.getElementById(${json(id)});` +
    `var draw=function(P){P.newPlot(el,${json(figure.data)},${json(figure.layout)},${json(config)});};` +
    `if(w.Plotly)return draw(w.Plotly);` +
    `var fail=function(why){el.textContent="plotly.js is not loaded: "+why;};` +
    `var q=w.__mnistLabPlotly;if(!q){var base=document.body.getAttribute("data-base-url");` +
    `if(base===null)return fail("this page is neither the project's Jupyter nor an export of it.");` +
    `q=w.__mnistLabPlotly=[];var url=base+${json(PLOTLY_STATIC_PATH)};` +
    `var lost=function(){w.__mnistLabPlotly=null;q.splice(0).forEach(function(f){f.fail("Jupyter did not serve "+url+".");});};` +
    // plotly.js-dist-min defines window.Plotly (no AMD branch), so a plain script tag works beside require.js too.
    `var s=document.createElement("script");s.src=url;s.onerror=lost;` +
    `s.onload=function(){if(!w.Plotly)return lost();q.splice(0).forEach(function(f){f.draw(w.Plotly);});};` +
    `document.head.appendChild(s);}` +
    `q.push({draw:draw,fail:fail});})();</script>`
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
