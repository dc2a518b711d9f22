package tmc.pixels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RegionTest {
    @Test
    void overlappingRectanglesAreStoredOnceEach() {
        Region region = new Region();
        region.add(new Rect(0, 0, 10, 10));
        region.add(new Rect(5, 5, 10, 10));
        assertEquals(100 + 100 - 25, region.area());
        assertDisjoint(region.rects());
    }

    @Test
    void aRectangleAlreadyCoveredAddsNothing() {
        Region region = new Region();
        region.add(new Rect(0, 0, 100, 100));
        region.add(new Rect(10, 10, 5, 5));
        assertEquals(List.of(new Rect(0, 0, 100, 100)), region.rects());
    }

    @Test
    void manySmallChangesStayBoundedAndCoverEverything() {
        Region region = new Region();
        Random random = new Random(11);
        boolean[][] covered = new boolean[200][300];
        for (int i = 0; i < 5000; i++) {
            Rect r = new Rect(random.nextInt(290), random.nextInt(190), 1 + random.nextInt(10), 1 + random.nextInt(10));
            region.add(r);
            for (int y = r.y(); y < r.bottom(); y++) {
                for (int x = r.x(); x < r.right(); x++) covered[y][x] = true;
            }
            assertTrue(region.rects().size() <= Region.MAX_RECTS, "bounded: " + region.rects().size());
        }
        assertDisjoint(region.rects());
        for (int y = 0; y < 200; y++) {
            for (int x = 0; x < 300; x++) {
                if (!covered[y][x]) continue;
                int px = x;
                int py = y;
                assertTrue(region.rects().stream().anyMatch(r -> r.contains(px, py)), "lost " + x + "," + y);
            }
        }
    }

    @Test
    void clipKeepsOnlyWhatIsOnTheNewScreen() {
        Region region = new Region();
        region.add(new Rect(600, 400, 200, 200));
        region.add(new Rect(10, 10, 10, 10));
        region.clip(Rect.ofSize(640, 480));
        assertEquals(List.of(new Rect(600, 400, 40, 80), new Rect(10, 10, 10, 10)), region.rects());
    }

    static void assertDisjoint(List<Rect> rects) {
        for (int i = 0; i < rects.size(); i++) {
            for (int j = i + 1; j < rects.size(); j++) {
                assertTrue(!rects.get(i).intersects(rects.get(j)), rects.get(i) + " overlaps " + rects.get(j));
            }
        }
    }
}
