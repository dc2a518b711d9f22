package tmc.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Tickets (single use, short life, bound to purpose and origin) and the deny-list, on a clock moved by hand. */
class TicketsAndRevocationsTest {
    private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
    private static final String ORIGIN = "https://desk.example";

    private final TestClock clock = new TestClock(NOW);

    private static TokenClaims claims(String tenant, String subject, String tokenId, Instant iat) {
        return new TokenClaims("iss", subject, tenant, null, false, null, Set.of(), NOW.plusSeconds(600), tokenId,
                iat);
    }

    @Test
    void aTicketIsSpentByItsFirstUse() throws Exception {
        Tickets tickets = new Tickets(clock, Duration.ofSeconds(20), 100, 10);
        TokenClaims alice = claims("acme", "alice", "t1", NOW);
        Tickets.Issued issued = tickets.issue(alice, Tickets.Purpose.console("vm1"), ORIGIN);
        assertTrue(issued.ticket().startsWith("tkt_") && issued.ticket().length() > 40, issued.ticket());
        assertEquals(NOW.plusSeconds(20), issued.expiresAt());
        assertEquals(alice, tickets.redeem(issued.ticket(), Tickets.Purpose.console("vm1"), ORIGIN));
        assertEquals("unknown, used or expired ticket", assertThrows(AuthException.class,
                () -> tickets.redeem(issued.ticket(), Tickets.Purpose.console("vm1"), ORIGIN)).getMessage());
        assertEquals(0, tickets.outstanding());
    }

    @Test
    void aTicketExpiresAndNeverOutlivesItsToken() throws Exception {
        Tickets tickets = new Tickets(clock, Duration.ofSeconds(20), 100, 10);
        Tickets.Issued issued = tickets.issue(claims("acme", "alice", "t1", NOW), Tickets.Purpose.events(), null);
        clock.advance(Duration.ofSeconds(20));
        assertEquals("unknown, used or expired ticket", assertThrows(AuthException.class,
                () -> tickets.redeem(issued.ticket(), Tickets.Purpose.events(), null)).getMessage());
        TokenClaims shortLived = new TokenClaims("iss", "bob", "acme", null, false, null, Set.of(),
                clock.instant().plusSeconds(5), "t2", null);
        assertEquals(clock.instant().plusSeconds(5), tickets.issue(shortLived, Tickets.Purpose.events(), null)
                .expiresAt());
        assertThrows(IllegalArgumentException.class, () -> new Tickets(clock, Duration.ofSeconds(31), 1, 1));
    }

    @Test
    void aTicketIsBoundToItsPurposeAndOrigin() throws Exception {
        Tickets tickets = new Tickets(clock, Duration.ofSeconds(20), 100, 10);
        TokenClaims alice = claims("acme", "alice", "t1", NOW);
        String a = tickets.issue(alice, Tickets.Purpose.console("vm1"), ORIGIN).ticket();
        assertEquals("the ticket was issued for another purpose", assertThrows(AuthException.class,
                () -> tickets.redeem(a, Tickets.Purpose.console("vm2"), ORIGIN)).getMessage());
        // Burnt by the wrong guess: no second try.
        assertThrows(AuthException.class, () -> tickets.redeem(a, Tickets.Purpose.console("vm1"), ORIGIN));
        String b = tickets.issue(alice, Tickets.Purpose.console("vm1"), ORIGIN).ticket();
        assertEquals("the ticket was issued to another origin", assertThrows(AuthException.class,
                () -> tickets.redeem(b, Tickets.Purpose.console("vm1"), "https://evil.example")).getMessage());
        String c = tickets.issue(alice, Tickets.Purpose.events(), ORIGIN).ticket();
        assertEquals("the ticket was issued to another origin", assertThrows(AuthException.class,
                () -> tickets.redeem(c, Tickets.Purpose.events(), null)).getMessage());
        String d = tickets.issue(alice, Tickets.Purpose.events(), ORIGIN).ticket();
        assertEquals(alice, tickets.redeem(d, Tickets.Purpose.events(), Tickets.SAME_ORIGIN));
        String e = tickets.issue(alice, Tickets.Purpose.events(), null).ticket();
        assertEquals("the ticket was issued to another origin", assertThrows(AuthException.class,
                () -> tickets.redeem(e, Tickets.Purpose.events(), Tickets.SAME_ORIGIN)).getMessage());
    }

    @Test
    void ticketsAreBoundedInAllAndPerPrincipal() throws Exception {
        Tickets tickets = new Tickets(clock, Duration.ofSeconds(20), 3, 2);
        TokenClaims alice = claims("acme", "alice", "t1", NOW);
        tickets.issue(alice, Tickets.Purpose.events(), null);
        tickets.issue(alice, Tickets.Purpose.events(), null);
        assertEquals("too many tickets outstanding for this user; use or let expire the others",
                assertThrows(AuthException.class, () -> tickets.issue(alice, Tickets.Purpose.events(), null))
                        .getMessage());
        // Another tenant's alice is another principal.
        tickets.issue(claims("globex", "alice", "t2", NOW), Tickets.Purpose.events(), null);
        assertEquals("too many tickets outstanding; try again in a few seconds", assertThrows(AuthException.class,
                () -> tickets.issue(claims("globex", "bob", "t3", NOW), Tickets.Purpose.events(), null))
                .getMessage());
        clock.advance(Duration.ofSeconds(20));
        tickets.issue(alice, Tickets.Purpose.events(), null);
        assertEquals(1, tickets.outstanding());
    }

    @Test
    void revokingAUserDeniesTheirOlderTokensInThatTenantOnly() {
        InMemoryRevocations deny = new InMemoryRevocations(clock, 100);
        TokenClaims old = claims("acme", "alice", "t1", NOW.minusSeconds(60));
        TokenClaims noIat = claims("acme", "alice", "t2", null);
        TokenClaims otherTenant = claims("globex", "alice", "t3", NOW.minusSeconds(60));
        deny.revokePrincipal(new Principal("iss", "acme", "alice"), NOW, NOW.plusSeconds(3600));
        assertEquals("the user's tokens were revoked by an administrator", deny.denial(old));
        assertEquals("the user's tokens were revoked by an administrator", deny.denial(noIat));
        assertNull(deny.denial(otherTenant), "tenant globex's alice is someone else");
        clock.advance(Duration.ofSeconds(1));
        assertNull(deny.denial(claims("acme", "alice", "t4", clock.instant())), "signed in again after");
        clock.advance(Duration.ofSeconds(3600));
        assertNull(deny.denial(old), "the entry is forgotten once no such token can be valid");
    }

    @Test
    void revokingATokenOrJtiHoldsUntilExpiryAndTheListIsBounded() {
        InMemoryRevocations deny = new InMemoryRevocations(clock, 2);
        TokenClaims a = claims("acme", "alice", "t1", NOW);
        TokenClaims withJti = new TokenClaims("iss", "bob", "acme", List.of(), false, "j1", Set.of(),
                NOW.plusSeconds(600), "t9", NOW);
        deny.revokeToken("t1", NOW.plusSeconds(10));
        deny.revokeJti("iss", "j1", NOW.plusSeconds(10));
        assertNotEquals(null, deny.denial(a));
        assertNotEquals(null, deny.denial(withJti));
        assertEquals("the deny-list is full (2 unexpired entries)", assertThrows(IllegalStateException.class,
                () -> deny.revokeToken("t3", NOW.plusSeconds(10))).getMessage());
        assertNotEquals(null, deny.denial(a), "a full list refuses new entries and keeps the old ones");
        clock.advance(Duration.ofSeconds(11));
        deny.revokeToken("t3", NOW.plusSeconds(100));
        assertNull(deny.denial(a));
        assertEquals(1, deny.size());
    }
}
