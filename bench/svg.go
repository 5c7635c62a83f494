package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strings"
)

type chartPoint struct{ L, facade, floor float64 } // ms

const (
	svgW, svgH                           = 760, 470
	plotL, plotR, plotT, plotB           = 84, 730, 78, 392 // plot area corners
	facadeColor, floorColor, guideColor  = "#1f63c6", "#d4560a", "#8a8a8a"
	gridColor, axisColor, textColor      = "#e3e3e3", "#333333", "#222222"
	fontFamily                           = "Helvetica, Arial, sans-serif"
	labelAbove, labelBelow, markerRadius = -13, 21, 4.5
)

// niceStep picks a 1-2-5 step giving about five to eight ticks up to top.
func niceStep(top float64) float64 {
	raw := top / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

func xmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// writeLatencySVG draws p50 against L for the facade and the floor, with the 2 × L
// minimum of two sequential upstream round trips as a guide.
func writeLatencySVG(path string, pts []chartPoint) error {
	maxL, maxY := 1.0, 1.0
	for _, p := range pts {
		maxL = max(maxL, p.L)
		maxY = max(maxY, p.facade, p.floor, 2*p.L)
	}
	yStep := niceStep(maxY * 1.12)
	yTop := math.Ceil(maxY*1.12/yStep) * yStep
	xStep := niceStep(maxL)
	x := func(v float64) float64 { return plotL + v/maxL*(plotR-plotL) }
	y := func(v float64) float64 { return plotB - v/yTop*(plotB-plotT) }

	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" fill="%s">`, svgW, svgH, svgW, svgH, fontFamily, textColor)
	w(`<rect width="100%%" height="100%%" fill="#ffffff"/>`)
	w(`<text x="%d" y="30" font-size="19" font-weight="bold" text-anchor="middle">p50 latency against injected upstream latency (1 client)</text>`, svgW/2)
	w(`<text x="%d" y="52" font-size="13" text-anchor="middle" fill="#555555">%s</text>`, svgW/2, xmlText("userGroups(first: 50) with owners — facade binary vs cost floor, loopback"))

	// Grid and axes.
	for v := 0.0; v <= yTop+1e-9; v += yStep {
		w(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`, plotL, y(v), plotR, y(v), gridColor)
		w(`<text x="%d" y="%.1f" font-size="12" text-anchor="end">%g</text>`, plotL-8, y(v)+4, v)
	}
	for v := 0.0; v <= maxL+1e-9; v += xStep {
		w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`, x(v), plotT, x(v), plotB, gridColor)
		w(`<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%g</text>`, x(v), plotB+20, v)
	}
	w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5"/>`, plotL, plotB, plotR, plotB, axisColor)
	w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5"/>`, plotL, plotT, plotL, plotB, axisColor)
	w(`<text x="%d" y="%d" font-size="14" text-anchor="middle">injected upstream latency L per KooDrive call (ms)</text>`, (plotL+plotR)/2, plotB+50)
	w(`<text transform="translate(26 %d) rotate(-90)" font-size="14" text-anchor="middle">p50 request latency (ms)</text>`, (plotT+plotB)/2)

	// The guide, then the floor, then the facade on top.
	var guide []string
	for _, p := range pts {
		guide = append(guide, fmt.Sprintf("%.1f,%.1f", x(p.L), y(2*p.L)))
	}
	w(`<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="6 5"/>`, strings.Join(guide, " "), guideColor)
	series(w, pts, x, y, func(p chartPoint) float64 { return p.floor }, floorColor, labelBelow, true)
	series(w, pts, x, y, func(p chartPoint) float64 { return p.facade }, facadeColor, labelAbove, false)

	// Legend, top left inside the plot, where the lines are lowest.
	lx, ly := plotL+16, plotT+14
	w(`<rect x="%d" y="%d" width="292" height="78" fill="#ffffff" fill-opacity="0.92" stroke="#cccccc" rx="4"/>`, lx, ly)
	legend := []struct {
		color, dash, label string
		square, marker     bool
	}{
		{facadeColor, "", "facade (real binary)", false, true},
		{floorColor, "", "floor (same REST calls, no GraphQL)", true, true},
		{guideColor, ` stroke-dasharray="6 5"`, "2 × L: two sequential upstream calls", false, false},
	}
	for i, e := range legend {
		cy := ly + 18 + i*22
		w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"%s/>`, lx+12, cy, lx+44, cy, e.color, e.dash)
		if e.marker {
			marker(w, float64(lx+28), float64(cy), e.color, e.square)
		}
		w(`<text x="%d" y="%d" font-size="13">%s</text>`, lx+54, cy+4, xmlText(e.label))
	}
	w(`</svg>`)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func series(w func(string, ...any), pts []chartPoint, x, y func(float64) float64, val func(chartPoint) float64, color string, labelDY int, square bool) {
	var line []string
	for _, p := range pts {
		line = append(line, fmt.Sprintf("%.1f,%.1f", x(p.L), y(val(p))))
	}
	w(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5" stroke-linejoin="round"/>`, strings.Join(line, " "), color)
	for _, p := range pts {
		px, py := x(p.L), y(val(p))
		marker(w, px, py, color, square)
		// Edge labels lean inwards, clear of the axis and inside the plot.
		anchor, dx, dy := "middle", 0.0, float64(labelDY)
		switch p.L {
		case pts[0].L:
			anchor, dx = "start", 8
		case pts[len(pts)-1].L:
			anchor, dx = "end", -8
			if dy > 0 {
				dy += 13 // the rising line runs under a label to its left
			}
		}
		ly := min(max(py+dy, plotT+14), plotB-5) // never across an axis
		// A white halo keeps a label readable where it crosses a line.
		w(`<text x="%.1f" y="%.1f" font-size="12" font-weight="bold" fill="%s" stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="%s">%.2f ms</text>`, px+dx, ly, color, anchor, val(p))
	}
}

func marker(w func(string, ...any), px, py float64, color string, square bool) {
	if square {
		w(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="#ffffff" stroke-width="1"/>`, px-markerRadius, py-markerRadius, 2*markerRadius, 2*markerRadius, color)
		return
	}
	w(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" stroke="#ffffff" stroke-width="1"/>`, px, py, markerRadius, color)
}
