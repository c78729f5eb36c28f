// Pan (drag the background), zoom (wheel or ctrl+wheel, around the pointer) and fit, applied as one transform.
export interface ViewportState {
  x: number;
  y: number;
  zoom: number;
}

const MIN_ZOOM = 0.05;
const MAX_ZOOM = 3;

export class Viewport {
  state: ViewportState = { x: 0, y: 0, zoom: 1 };
  private drag?: { px: number; py: number; x: number; y: number; id: number };

  constructor(
    private readonly svgEl: SVGSVGElement,
    private readonly target: SVGGElement,
    private readonly changed: () => void,
  ) {
    svgEl.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const r = svgEl.getBoundingClientRect();
        const factor = Math.exp(-ev.deltaY * (ev.ctrlKey ? 0.01 : 0.0015));
        this.zoomAt(this.state.zoom * factor, ev.clientX - r.left, ev.clientY - r.top);
      },
      { passive: false },
    );
    svgEl.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0 || (ev.target as Element).closest('.node')) return;
      this.drag = { px: ev.clientX, py: ev.clientY, x: this.state.x, y: this.state.y, id: ev.pointerId };
      svgEl.setPointerCapture(ev.pointerId);
      svgEl.classList.add('panning');
    });
    svgEl.addEventListener('pointermove', (ev) => {
      if (!this.drag || ev.pointerId !== this.drag.id) return;
      this.set({
        ...this.state,
        x: this.drag.x + ev.clientX - this.drag.px,
        y: this.drag.y + ev.clientY - this.drag.py,
      });
    });
    const end = (ev: PointerEvent) => {
      if (!this.drag || ev.pointerId !== this.drag.id) return;
      this.drag = undefined;
      svgEl.classList.remove('panning');
    };
    svgEl.addEventListener('pointerup', end);
    svgEl.addEventListener('pointercancel', end);
  }

  set(s: ViewportState): void {
    if (![s.x, s.y, s.zoom].every(Number.isFinite)) return;
    this.state = { x: s.x, y: s.y, zoom: Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, s.zoom)) };
    this.target.setAttribute('transform', `translate(${this.state.x} ${this.state.y}) scale(${this.state.zoom})`);
    // Level of detail: text smaller than a few pixels is noise and most of the paint cost of a large graph.
    this.svgEl.classList.toggle('lod-medium', this.state.zoom < 0.5);
    this.svgEl.classList.toggle('lod-low', this.state.zoom < 0.28);
    this.changed();
  }

  zoomAt(zoom: number, cx: number, cy: number): void {
    const z = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
    const k = z / this.state.zoom;
    this.set({ x: cx - (cx - this.state.x) * k, y: cy - (cy - this.state.y) * k, zoom: z });
  }

  zoomBy(factor: number): void {
    const r = this.svgEl.getBoundingClientRect();
    this.zoomAt(this.state.zoom * factor, r.width / 2, r.height / 2);
  }

  /** Fits a content rectangle (graph coordinates) into the visible area, never zooming in past 100%. */
  fit(width: number, height: number, margin = 24): void {
    const r = this.svgEl.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || width <= 0 || height <= 0) return;
    const zoom = Math.min(1, (r.width - 2 * margin) / width, (r.height - 2 * margin) / height);
    this.set({ x: (r.width - width * zoom) / 2, y: Math.max(margin, (r.height - height * zoom) / 2), zoom });
  }

  /** Scrolls so a box (graph coordinates) is visible, keeping the zoom. */
  reveal(b: { x: number; y: number; w: number; h: number }): void {
    const r = this.svgEl.getBoundingClientRect();
    const z = this.state.zoom;
    const left = b.x * z + this.state.x;
    const top = b.y * z + this.state.y;
    let { x, y } = this.state;
    if (left < 16) x += 16 - left;
    if (left + b.w * z > r.width - 16) x -= left + b.w * z - (r.width - 16);
    if (top < 16) y += 16 - top;
    if (top + b.h * z > r.height - 16) y -= top + b.h * z - (r.height - 16);
    if (x !== this.state.x || y !== this.state.y) this.set({ x, y, zoom: z });
  }
}
