/**
 * Contrast (WCAG 2.x relative luminance) for tenant-chosen colours: the preference center uses
 * the tenant's primary colour for buttons, links and focus rings on white, so a pale brand
 * colour is darkened, keeping its hue, until white text on it and it on white reach 4.5:1.
 */
const HEX = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i;

type Rgb = [number, number, number];

const rgbOf = (hex: string): Rgb => {
  const m = HEX.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
};
const hexOf = (rgb: Rgb) => `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("")}`;

function luminance([r, g, b]: Rgb): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** The contrast ratio of two #rrggbb colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [x, y] = [luminance(rgbOf(a)), luminance(rgbOf(b))].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/** The colour itself when it reads on white at `min`, else the lightest darker shade that does. */
export function readableOnWhite(hex: string, min = 4.5): string {
  const rgb = rgbOf(hex);
  for (let f = 1; f > 0; f -= 0.02) {
    const shade = hexOf(rgb.map((v) => v * f) as Rgb);
    if (contrastRatio(shade, "#ffffff") >= min) return shade;
  }
  return "#000000";
}
