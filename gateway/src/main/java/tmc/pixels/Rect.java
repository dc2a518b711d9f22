package tmc.pixels;

/** A rectangle of pixels: x, y of its top-left corner, width and height (both positive). */
public record Rect(int x, int y, int width, int height) {
    public Rect {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("empty rectangle " + width + "x" + height + " at " + x + "," + y);
        }
    }

    public static Rect ofSize(int width, int height) {
        return new Rect(0, 0, width, height);
    }

    public int right() {
        return x + width;
    }

    public int bottom() {
        return y + height;
    }

    public long area() {
        return (long) width * height;
    }

    public boolean contains(int px, int py) {
        return px >= x && px < right() && py >= y && py < bottom();
    }

    public boolean contains(Rect r) {
        return r.x >= x && r.y >= y && r.right() <= right() && r.bottom() <= bottom();
    }

    public boolean intersects(Rect r) {
        return r.x < right() && x < r.right() && r.y < bottom() && y < r.bottom();
    }

    /** The common part, or null when they do not overlap. */
    public Rect intersection(Rect r) {
        int l = Math.max(x, r.x);
        int t = Math.max(y, r.y);
        int rr = Math.min(right(), r.right());
        int b = Math.min(bottom(), r.bottom());
        return rr > l && b > t ? new Rect(l, t, rr - l, b - t) : null;
    }

    /** The smallest rectangle holding both. */
    public Rect union(Rect r) {
        int l = Math.min(x, r.x);
        int t = Math.min(y, r.y);
        return new Rect(l, t, Math.max(right(), r.right()) - l, Math.max(bottom(), r.bottom()) - t);
    }

    @Override
    public String toString() {
        return width + "x" + height + "+" + x + "+" + y;
    }
}
