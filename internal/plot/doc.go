// Package plot draws the report figures: grouped bar charts of rates with
// their confidence intervals (GroupedBars) and annotated heat maps of rates
// over two categorical axes (Heatmap), rendered with gonum/plot as PNG and
// SVG.
//
// Figures are deterministic: the same input gives a byte-identical SVG and a
// pixel-identical PNG, so committed figures diff only when the data changed.
// To keep it so, figures have fixed sizes, use only the Liberation fonts that
// gonum/plot embeds (no system font lookup), draw their inputs in the order
// given (callers pass sorted categories), iterate no maps and write no
// timestamps. Floating-point rounding is the one thing outside our control:
// a different CPU architecture (one that fuses multiply-adds, say arm64) may
// move an anti-aliased edge pixel, so compare figures on the architecture
// that made them.
//
// Every value is a stats.Rate, so a figure shows exactly what the tables
// print: the proportion, its interval, and k/n. A rate with no denominator is
// drawn as "n/a", never as zero.
package plot
