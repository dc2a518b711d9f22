package tmc.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FileLimitTest {
    @Test
    void parsesProcLimits() {
        FileLimit l = FileLimit.parse(List.of(
                "Limit                     Soft Limit           Hard Limit           Units     ",
                "Max open files            20000                20000                files     "));
        assertEquals(new FileLimit(20000, 20000), l);
        assertEquals(9900, l.sessions());
        assertEquals("open files: limit 20000, room for about 9900 browser sessions (2 descriptors each) (the hard"
                + " limit: ulimit -Hn or LimitNOFILE= raises it)", l.describe());
        assertEquals("open files: limit 1024, room for about 412 browser sessions (2 descriptors each); the hard"
                + " limit is 4096: raise the soft one (ulimit -n)",
                FileLimit.parse(List.of("Max open files            1024       4096      files")).describe());
        assertEquals(new FileLimit(1024, -1), FileLimit.parse(List.of("Max open files  1024  unlimited  files")));
    }

    /** HotSpot raises the soft limit to the hard one at start: what the gateway reports is what it can use. */
    @Test
    void thisJvmRunsAtItsHardLimit() {
        FileLimit l = FileLimit.current();
        assertTrue(l.soft() > 0, l.toString());
        assertTrue(l.hard() < 0 || l.soft() == l.hard(), l.toString());
    }
}
