package tmc.pixels;

import java.util.ArrayList;
import java.util.List;

/**
 * A set of pixels to send, kept as disjoint rectangles so no pixel is counted (and sent) twice. Adding a rectangle
 * adds only the parts not yet covered. The number of rectangles is bounded: past {@link #MAX_RECTS} the two whose
 * bounding box wastes the fewest pixels are merged, so a client that stops reading costs a bounded amount of memory
 * however much the screen changes meanwhile (its damage coalesces instead of queueing).
 *
 * <p>Not thread safe: each owner guards its region.
 */
public final class Region {
    /** Enough for a few windows' worth of separate changes; beyond it merging is cheaper than many tiny rects. */
    public static final int MAX_RECTS = 48;

    private final List<Rect> rects = new ArrayList<>();

    public boolean isEmpty() {
        return rects.isEmpty();
    }

    public List<Rect> rects() {
        return List.copyOf(rects);
    }

    public long area() {
        long a = 0;
        for (Rect r : rects) a += r.area();
        return a;
    }

    public void clear() {
        rects.clear();
    }

    public void add(Rect r) {
        List<Rect> pieces = new ArrayList<>();
        pieces.add(r);
        for (Rect have : rects) {
            List<Rect> next = new ArrayList<>();
            for (Rect p : pieces) subtract(p, have, next);
            pieces = next;
            if (pieces.isEmpty()) return;
        }
        rects.addAll(pieces);
        while (rects.size() > MAX_RECTS) mergeCheapestPair();
    }

    /** Keeps only what lies inside {@code bounds} (after a resize). */
    public void clip(Rect bounds) {
        List<Rect> kept = new ArrayList<>();
        for (Rect r : rects) {
            Rect c = r.intersection(bounds);
            if (c != null) kept.add(c);
        }
        rects.clear();
        rects.addAll(kept);
    }

    /** Removes and returns everything (what an update is about to send). */
    public List<Rect> takeAll() {
        List<Rect> all = List.copyOf(rects);
        rects.clear();
        return all;
    }

    /** Adds to {@code out} the parts of {@code a} outside {@code b}: up to four bands. */
    static void subtract(Rect a, Rect b, List<Rect> out) {
        Rect i = a.intersection(b);
        if (i == null) {
            out.add(a);
            return;
        }
        if (i.y() > a.y()) out.add(new Rect(a.x(), a.y(), a.width(), i.y() - a.y()));
        if (i.bottom() < a.bottom()) out.add(new Rect(a.x(), i.bottom(), a.width(), a.bottom() - i.bottom()));
        if (i.x() > a.x()) out.add(new Rect(a.x(), i.y(), i.x() - a.x(), i.height()));
        if (i.right() < a.right()) out.add(new Rect(i.right(), i.y(), a.right() - i.right(), i.height()));
    }

    private void mergeCheapestPair() {
        int bi = 0;
        int bj = 1;
        long best = Long.MAX_VALUE;
        for (int i = 0; i < rects.size(); i++) {
            for (int j = i + 1; j < rects.size(); j++) {
                long waste = rects.get(i).union(rects.get(j)).area() - rects.get(i).area() - rects.get(j).area();
                if (waste < best) {
                    best = waste;
                    bi = i;
                    bj = j;
                }
            }
        }
        Rect merged = rects.get(bi).union(rects.remove(bj));
        rects.remove(bi);
        // The bounding box may overlap others: absorb them too (into a growing box) so the set stays disjoint and
        // the count strictly falls.
        boolean grew = true;
        while (grew) {
            grew = false;
            for (int k = 0; k < rects.size(); k++) {
                if (rects.get(k).intersects(merged)) {
                    merged = merged.union(rects.remove(k));
                    grew = true;
                    break;
                }
            }
        }
        rects.add(merged);
    }

    @Override
    public String toString() {
        return rects.toString();
    }
}
