package tmc.fleet;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tmc.store.Fence;
import tmc.store.Leases;
import tmc.store.StoreException;

/**
 * Holds this gateway's leases: the ones it wants ({@link #want}), taken when free and kept by renewal, one round
 * per {@link #tick} (every quarter of the lease time once {@link #start}ed; tests call it with their own clock).
 *
 * <p>Each round: renew this node's liveness lease ({@code node:<id>}); renew every held lease, and give up any whose
 * renewal failed or came later than its local validity ({@link #validity}: a gateway paused longer than that stops
 * acting before it could know whether someone took over); then take free ones. A gateway takes a free lease while
 * it holds fewer than its fair share (wanted leases / live nodes, rounded up), or whatever the lease was when its
 * owner's node lease has expired too (a dead gateway's VMs are taken at once by the survivors).
 *
 * <p>Holders are told outside the keeper's lock, on the thread that runs the round: {@link Holder#acquired} with
 * the fencing token to pass with every change made under the lease, {@link Holder#lost} when it must stop.
 */
public final class LeaseKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);
    public static final String NODE_PREFIX = "node:";

    /** Whoever acts under a lease. */
    public interface Holder {
        void acquired(Fence fence);

        void lost(Fence fence);
    }

    private record Held(Fence fence, long validUntil) {
    }

    private final Leases leases;
    private final Clock clock;
    private final String node;
    private final long ttl;
    private final Object lock = new Object();
    // Guarded by lock.
    private final Map<String, Holder> wanted = new LinkedHashMap<>();
    private final Map<String, Held> held = new HashMap<>();
    private Held nodeLease;
    private ScheduledExecutorService timer;

    public LeaseKeeper(Leases leases, Clock clock, String node, Duration ttl) {
        this.leases = leases;
        this.clock = clock;
        this.node = node;
        this.ttl = ttl.toMillis();
        if (this.ttl < 100) {
            throw new IllegalArgumentException("lease time below 100 ms");
        }
    }

    public String node() {
        return node;
    }

    public Duration ttl() {
        return Duration.ofMillis(ttl);
    }

    /** How long after a successful renewal this gateway goes on acting without another: 3/4 of the lease. */
    long validity() {
        return ttl - ttl / 4;
    }

    /** Asks for {@code name}; {@code holder} hears when it is taken and lost. */
    public void want(String name, Holder holder) {
        synchronized (lock) {
            wanted.put(name, holder);
        }
    }

    /** No longer wants {@code name}: releases it (for another gateway to take at once) if held. */
    public void forget(String name) {
        Held h;
        Holder holder;
        synchronized (lock) {
            holder = wanted.remove(name);
            h = held.remove(name);
        }
        if (h != null) {
            if (holder != null) {
                holder.lost(h.fence());
            }
            release(h.fence());
        }
    }

    /** The token of a lease held now and still valid locally, or empty. */
    public Optional<Fence> fence(String name) {
        long now = clock.millis();
        synchronized (lock) {
            Held h = held.get(name);
            return h != null && now < h.validUntil() ? Optional.of(h.fence()) : Optional.empty();
        }
    }

    /** The names held now. */
    public Set<String> held() {
        synchronized (lock) {
            return Set.copyOf(held.keySet());
        }
    }

    /** A change under {@code fence} was refused by the store: the lease has moved on, stop acting under it now. */
    public void fenced(Fence fence) {
        Holder holder;
        synchronized (lock) {
            Held h = held.get(fence.lease());
            if (h == null || h.fence().epoch() != fence.epoch()) {
                return;
            }
            held.remove(fence.lease());
            holder = wanted.get(fence.lease());
        }
        LOG.warn("event=lease-fenced lease={} epoch={}", fence.lease(), fence.epoch());
        if (holder != null) {
            holder.lost(fence);
        }
    }

    public LeaseKeeper start() {
        timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("tmc-leases").factory());
        long period = Math.max(25, ttl / 4);
        timer.scheduleWithFixedDelay(() -> {
            try {
                tick();
            } catch (RuntimeException e) {
                LOG.warn("event=lease-round-failed error=\"{}\"", e.toString());
            }
        }, 0, period, TimeUnit.MILLISECONDS);
        return this;
    }

    /** One round: renew, give up what could not be renewed in time, take what is free. */
    public void tick() {
        long now = clock.millis();
        renewNode(now);
        List<Runnable> effects = new ArrayList<>();
        renewHeld(now, effects);
        acquireFree(now, effects);
        effects.forEach(Runnable::run);
    }

    /** Stops renewing and releases every lease held, telling the holders first (a gateway stopping in order). */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            try {
                timer.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Map.Entry<Held, Holder>> all = new ArrayList<>();
        Held nodeHeld;
        synchronized (lock) {
            for (Map.Entry<String, Held> e : held.entrySet()) {
                all.add(Map.entry(e.getValue(), wanted.get(e.getKey())));
            }
            held.clear();
            nodeHeld = nodeLease;
            nodeLease = null;
        }
        for (Map.Entry<Held, Holder> e : all) {
            if (e.getValue() != null) {
                e.getValue().lost(e.getKey().fence());
            }
            release(e.getKey().fence());
        }
        if (nodeHeld != null) {
            release(nodeHeld.fence());
        }
    }

    // ===== PRIVATE METHODS =====

    private void renewNode(long now) {
        String name = NODE_PREFIX + node;
        try {
            Held n;
            synchronized (lock) {
                n = nodeLease;
            }
            if (n != null && leases.renew(n.fence(), now, ttl)) {
                n = new Held(n.fence(), now + validity());
            } else {
                OptionalLong epoch = leases.acquire(name, node, now, ttl);
                n = epoch.isPresent() ? new Held(new Fence(name, node, epoch.getAsLong()), now + validity()) : null;
            }
            synchronized (lock) {
                nodeLease = n;
            }
        } catch (StoreException e) {
            LOG.warn("event=node-lease-failed error=\"{}\"", e.getMessage());
        }
    }

    private void renewHeld(long now, List<Runnable> effects) {
        List<Map.Entry<String, Held>> snapshot;
        synchronized (lock) {
            snapshot = new ArrayList<>(held.entrySet());
        }
        for (Map.Entry<String, Held> e : snapshot) {
            Held h = e.getValue();
            boolean renewed = false;
            if (now < h.validUntil()) {
                try {
                    renewed = leases.renew(h.fence(), now, ttl);
                } catch (StoreException ex) {
                    // The database is unreachable: keep acting until the local validity runs out.
                    continue;
                }
            }
            synchronized (lock) {
                if (held.get(e.getKey()) != h) {
                    continue; // dropped meanwhile
                }
                if (renewed) {
                    held.put(e.getKey(), new Held(h.fence(), now + validity()));
                    continue;
                }
                held.remove(e.getKey());
                Holder holder = wanted.get(e.getKey());
                LOG.warn("event=lease-lost lease={} epoch={} late={}", e.getKey(), h.fence().epoch(),
                        now >= h.validUntil());
                if (holder != null) {
                    effects.add(() -> holder.lost(h.fence()));
                }
            }
        }
    }

    private void acquireFree(long now, List<Runnable> effects) {
        Map<String, Holder> want;
        int holding;
        synchronized (lock) {
            want = new LinkedHashMap<>(wanted);
            want.keySet().removeAll(held.keySet());
            holding = held.size();
        }
        if (want.isEmpty()) {
            return;
        }
        Map<String, Leases.Lease> current = new HashMap<>();
        Set<String> liveNodes = new HashSet<>();
        try {
            for (Leases.Lease l : leases.list("")) {
                if (l.name().startsWith(NODE_PREFIX)) {
                    if (l.expiresAt() > now) {
                        liveNodes.add(l.owner());
                    }
                } else {
                    current.put(l.name(), l);
                }
            }
        } catch (StoreException e) {
            return;
        }
        liveNodes.add(node);
        int total;
        synchronized (lock) {
            total = wanted.size();
        }
        int share = (total + liveNodes.size() - 1) / liveNodes.size();
        for (Map.Entry<String, Holder> w : want.entrySet()) {
            Leases.Lease l = current.get(w.getKey());
            boolean mine = l != null && l.owner().equals(node);
            if (l != null && !mine && l.expiresAt() > now) {
                continue; // another gateway's, running
            }
            boolean ownerGone = l != null && !liveNodes.contains(l.owner());
            if (!mine && !ownerGone && holding >= share) {
                continue; // leave it to a gateway with fewer
            }
            OptionalLong epoch;
            try {
                epoch = leases.acquire(w.getKey(), node, now, ttl);
            } catch (StoreException e) {
                return;
            }
            if (epoch.isEmpty()) {
                continue;
            }
            Fence fence = new Fence(w.getKey(), node, epoch.getAsLong());
            synchronized (lock) {
                if (!wanted.containsKey(w.getKey())) {
                    effects.add(() -> release(fence));
                    continue;
                }
                held.put(w.getKey(), new Held(fence, now + validity()));
            }
            holding++;
            LOG.info("event=lease-acquired lease={} epoch={} previous_owner={}", w.getKey(), fence.epoch(),
                    l == null ? "-" : l.owner());
            effects.add(() -> w.getValue().acquired(fence));
        }
    }

    private void release(Fence fence) {
        try {
            leases.release(fence);
        } catch (StoreException e) {
            LOG.warn("event=lease-release-failed lease={} error=\"{}\"", fence.lease(), e.getMessage());
        }
    }
}
