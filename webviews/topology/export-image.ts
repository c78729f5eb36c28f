// SVG and PNG export. The exported SVG must look the same outside VS Code, so theme variables are resolved:
// every drawn element gets its computed paint written as attributes on a clone.
import type { Layout } from './layout';

const PAINT = [
  'fill',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'display',
] as const;

export function exportSvg(source: SVGSVGElement, layout: Layout): string {
  const margin = 20;
  const clone = source.cloneNode(true) as SVGSVGElement;
  const originals = source.querySelectorAll<SVGElement>('*');
  const copies = clone.querySelectorAll<SVGElement>('*');
  originals.forEach((orig, i) => {
    const copy = copies[i];
    const cs = getComputedStyle(orig);
    for (const p of PAINT) copy.setAttribute(p, cs.getPropertyValue(p));
    if (orig.style.transform) {
      // CSS translate(…px, …px) → SVG transform attribute, which standalone viewers understand.
      copy.setAttribute('transform', orig.style.transform.replace(/px/g, ''));
      copy.style.removeProperty('transform');
    }
    copy.removeAttribute('tabindex');
    copy.removeAttribute('class');
  });
  // The pan/zoom transform is the viewer's, not the picture's: the export shows the whole graph at 100%.
  const vp = clone.querySelector('g.viewport, g');
  if (vp) vp.setAttribute('transform', `translate(${margin} ${margin})`);
  const width = Math.ceil(layout.width + 2 * margin);
  const height = Math.ceil(layout.height + 2 * margin);
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  clone.setAttribute('viewBox', `0 0 ${width} ${height}`);
  clone.removeAttribute('class');
  clone.removeAttribute('style');
  const bg = getComputedStyle(document.body).getPropertyValue('background-color');
  const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  rect.setAttribute('width', '100%');
  rect.setAttribute('height', '100%');
  rect.setAttribute('fill', bg || 'white');
  clone.insertBefore(rect, clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

/** Rasterises the exported SVG; returns PNG bytes as base64 (no data: prefix). */
export async function exportPng(svgText: string, scale = 2): Promise<string> {
  const m = /width="(\d+)" height="(\d+)"/.exec(svgText);
  const w = Number(m?.[1] ?? 800);
  const h = Number(m?.[2] ?? 600);
  // Browsers cap canvas area; shrink the scale for huge graphs rather than fail.
  const s = Math.max(0.25, Math.min(scale, Math.sqrt(120_000_000 / (w * h)), 16000 / Math.max(w, h)));
  const img = new Image();
  img.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(svgText)))}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(w * s);
  canvas.height = Math.round(h * s);
  const ctx = canvas.getContext('2d');
  if (!ctx)
    throw new Error(`PNG export failed: no 2D canvas for ${canvas.width}×${canvas.height}; export SVG instead.`);
  ctx.scale(s, s);
  ctx.drawImage(img, 0, 0);
  return canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}
