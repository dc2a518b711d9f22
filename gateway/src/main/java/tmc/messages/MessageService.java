package tmc.messages;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import tmc.fleet.LeaseKeeper;
import tmc.fleet.OutboxFeed;
import tmc.store.Button;
import tmc.store.Delivery;
import tmc.store.DeliveryState;
import tmc.store.Fence;
import tmc.store.Message;
import tmc.store.OutboxEvent;
import tmc.store.Store;

/**
 * The message channel: accepts messages, keeps one {@link VmChannel} per VM that puts them on screen one at a
 * time over QMP, expires them, retracts them, and records every answer. Everything it accepts is in the store
 * before {@link #submit} returns; everything it does after that is driven from the store, so a restarted gateway
 * picks up where the killed one stopped ({@link #start}).
 *
 * <p>In a fleet ({@code keeper} given) every gateway accepts messages for every VM, but a VM's channel runs only on
 * the gateway holding its lease ({@code vm:<id>}); the others hear of the VM's changes through the outbox
 * ({@link OutboxFeed}, woken by NOTIFY) and the owner acts on them. The bus carries every event of the fleet, in
 * sequence order, once.
 */
public final class MessageService implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MessageService.class.getName());
    private static final Logger TIMING_LOG = Logger.getLogger("tmc.messages.timing");
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Store store;
    private final Clock clock;
    private final EventBus bus;
    /** Copy-on-write (VMs come and go at run time, e.g. libvirt domains): replaced whole under {@link #vmLock}. */
    private volatile Map<String, VmTarget> vms;
    private volatile Map<String, VmChannel> channels = Map.of();
    private final Object vmLock = new Object();
    private volatile boolean started; // written under vmLock
    private final ScheduledExecutorService sweeper;
    private final AtomicLong lastSeq = new AtomicLong();
    /** The fleet's leases; null for a gateway on its own (it owns every VM). */
    private final LeaseKeeper keeper;
    private final OutboxFeed feed;
    private final AutoCloseable ownEvents;

    /** @param vms every VM messages may be sent to, in display order */
    public MessageService(Store store, Clock clock, EventBus bus, Collection<VmTarget> vms) {
        this(store, clock, bus, vms, null);
    }

    /** @param keeper the fleet's leases (a VM's channel runs where its lease is held), or null: every VM is ours */
    public MessageService(Store store, Clock clock, EventBus bus, Collection<VmTarget> vms, LeaseKeeper keeper) {
        this.store = store;
        this.clock = clock;
        this.bus = bus;
        this.keeper = keeper;
        this.feed = new OutboxFeed(store, store.lastOutboxSeq(), bus::publish);
        this.ownEvents = bus.subscribe(this::changed);
        Map<String, VmTarget> m = new LinkedHashMap<>();
        for (VmTarget vm : vms) {
            m.put(vm.id(), vm);
        }
        this.vms = java.util.Collections.unmodifiableMap(m); // insertion order: tenant broadcasts follow it
        Map<String, VmChannel> c = new LinkedHashMap<>();
        if (keeper == null) {
            for (VmTarget vm : vms) {
                c.put(vm.id(), new VmChannel(vm, this, null));
            }
        }
        this.channels = java.util.Collections.unmodifiableMap(c);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("tmc-expiry").factory());
    }

    /** Connects to every VM's QMP, resumes what the store says is pending, and starts the TTL sweeper. */
    public MessageService start() {
        feed.start();
        synchronized (vmLock) {
            started = true;
            for (VmChannel c : channels.values()) {
                c.start();
            }
            if (keeper != null) {
                for (VmTarget vm : vms.values()) {
                    keeper.want(leaseName(vm.id()), new VmLease(vm.id()));
                }
            }
        }
        sweeper.scheduleWithFixedDelay(this::sweep, 200, 200, TimeUnit.MILLISECONDS);
        return this;
    }

    public Store store() {
        return store;
    }

    /**
     * Adds a VM at run time, or replaces the VM of that id (its channel is closed and a new one started, which
     * restores what the store says should be on its screen). Its queued messages wait for it.
     */
    public void register(VmTarget vm) {
        VmChannel old;
        if (keeper != null) {
            registerInFleet(vm);
            return;
        }
        VmChannel fresh = new VmChannel(vm, this, null);
        synchronized (vmLock) {
            Map<String, VmTarget> v = new LinkedHashMap<>(vms);
            v.put(vm.id(), vm);
            Map<String, VmChannel> c = new LinkedHashMap<>(channels);
            old = c.put(vm.id(), fresh);
            vms = java.util.Collections.unmodifiableMap(v);
            channels = java.util.Collections.unmodifiableMap(c);
            if (old != null) {
                old.close();
            }
            if (started) {
                fresh.start();
            }
        }
    }

    /** Removes a VM (e.g. its libvirt domain was undefined); its open deliveries stay queued until they expire. */
    public void unregister(String vmId) {
        if (keeper != null) {
            synchronized (vmLock) {
                Map<String, VmTarget> v = new LinkedHashMap<>(vms);
                v.remove(vmId);
                vms = java.util.Collections.unmodifiableMap(v);
            }
            keeper.forget(leaseName(vmId)); // closes the channel if it runs here
            return;
        }
        synchronized (vmLock) {
            if (!vms.containsKey(vmId)) {
                return;
            }
            Map<String, VmTarget> v = new LinkedHashMap<>(vms);
            v.remove(vmId);
            Map<String, VmChannel> c = new LinkedHashMap<>(channels);
            VmChannel old = c.remove(vmId);
            vms = java.util.Collections.unmodifiableMap(v);
            channels = java.util.Collections.unmodifiableMap(c);
            old.close();
        }
    }

    public EventBus bus() {
        return bus;
    }

    Clock clock() {
        return clock;
    }

    public List<VmTarget> vms() {
        return List.copyOf(vms.values());
    }

    public Optional<VmTarget> vm(String id) {
        return Optional.ofNullable(vms.get(id));
    }

    /** A VM's live status for GET /api/v1/vms. */
    public record VmStatus(VmTarget vm, boolean qmpConnected, String shownMessage, int queued) {
    }

    /** Every VM; {@code qmpConnected} is this gateway's connection (in a fleet: false where another owns it). */
    public List<VmStatus> vmStatus() {
        List<VmStatus> out = new ArrayList<>();
        Map<String, VmChannel> live = channels;
        for (VmTarget vm : vms.values()) {
            List<Delivery> open = store.openDeliveries(vm.id());
            String shown = open.stream().filter(d -> d.state() == DeliveryState.SHOWN).map(Delivery::messageId)
                    .findFirst().orElse(null);
            int queued = (int) open.stream().filter(d -> d.state() == DeliveryState.QUEUED).count();
            VmChannel c = live.get(vm.id());
            out.add(new VmStatus(vm, c != null && c.connected(), shown, queued));
        }
        return out;
    }

    /** The result of {@link #submit}: the stored message and whether it is a replay of an earlier request. */
    public record Submitted(Message message, List<Delivery> deliveries, boolean replayed) {
    }

    /**
     * Validates, stores and queues a message. With an {@code idempotencyKey}, the same request sent again
     * returns the first result ({@code replayed}), a different request with that key is a conflict.
     */
    public Submitted submit(NewMessage req, String idempotencyKey) {
        long t0 = System.nanoTime();
        List<String> targets = validate(req);
        if (idempotencyKey != null && (idempotencyKey.isEmpty() || idempotencyKey.length() > 200)) {
            throw new MessageException(MessageException.Kind.INVALID, "bad_idempotency_key",
                    "Idempotency-Key must have 1 to 200 characters");
        }
        String hash = requestHash(req);
        if (idempotencyKey != null) {
            Optional<Submitted> earlier = replay(idempotencyKey, hash);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        long now = clock.millis();
        String id = newId(now);
        ObjectNode target = JSON.createObjectNode();
        if (req.tenant() != null) {
            target.put("tenant", req.tenant());
        }
        ArrayNode vmList = target.putArray("vms");
        targets.forEach(vmList::add);
        Message m = new Message(id, now, now + req.ttlSeconds() * 1000, req.title(), req.body(), req.severity(),
                req.buttons(), req.modal(), req.position(), req.ttlSeconds(), target.toString(), idempotencyKey, hash);
        List<Delivery> ds = new ArrayList<>();
        for (String vm : targets) {
            ds.add(new Delivery(id, vm, nextSeq(now), m.priority(), DeliveryState.QUEUED, now, null, null, null, null,
                    null, 0));
        }
        for (String vm : targets) {
            VmChannel c = channels.get(vm);
            if (c != null) { // runs here: render ahead (in a fleet the owner may be another gateway)
                c.prepare(m);
            }
        }
        List<OutboxEvent> events;
        long t1 = System.nanoTime();
        try {
            events = store.insert(m, ds);
        } catch (Store.DuplicateKeyException e) {
            // Another request with the same key won the race.
            return replay(idempotencyKey, hash).orElseThrow(() -> e);
        }
        long t2 = System.nanoTime();
        feed.poke();
        for (String vm : targets) {
            VmChannel c = channels.get(vm);
            if (c != null) { // null: another gateway owns it (it hears through the outbox), or the VM went away
                c.kick();
            }
        }
        if (TIMING_LOG.isLoggable(Level.FINE)) {
            // See VmChannel.Timing: the part of the way to the screen spent before the VM's thread takes over.
            TIMING_LOG.fine("event=message-timing message=" + id + " validate_us=" + (t1 - t0) / 1000
                    + " store_insert_us=" + (t2 - t1) / 1000 + " publish_us=" + (System.nanoTime() - t2) / 1000);
        }
        return new Submitted(m, ds, false);
    }

    public Optional<Message> message(String id) {
        return store.message(id);
    }

    public List<Delivery> deliveries(String messageId) {
        return store.deliveries(messageId);
    }

    /** Retracts every open delivery of a message; returns the deliveries afterwards. */
    public List<Delivery> retract(String messageId) {
        if (store.message(messageId).isEmpty()) {
            throw new MessageException(MessageException.Kind.NOT_FOUND, "not_found", "no message " + messageId);
        }
        for (Delivery d : store.deliveries(messageId)) {
            if (!d.state().isTerminal()) {
                finish(d.messageId(), d.vm(), DeliveryState.OPEN, DeliveryState.RETRACTED, Store.Change.NONE);
            }
        }
        return store.deliveries(messageId);
    }

    /** Another gateway committed outbox events (PostgreSQL NOTIFY): read them now. */
    public void outboxNotified() {
        feed.poke();
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        try {
            ownEvents.close();
        } catch (Exception ignored) {
            // a plain list removal
        }
        feed.close();
        synchronized (vmLock) {
            started = false;
            for (VmChannel c : channels.values()) {
                c.close();
            }
        }
    }

    // ===== PACKAGE-PRIVATE: used by VmChannel =====

    /** Records a transition and publishes it; empty when the delivery had already left {@code from}. */
    Optional<OutboxEvent> transition(String messageId, String vm, Set<DeliveryState> from, DeliveryState to,
                                     Store.Change change) {
        return transition(messageId, vm, from, to, change, null);
    }

    /** {@link #transition} under a VM's lease: a refused fence tells the keeper, which closes the channel. */
    Optional<OutboxEvent> transition(String messageId, String vm, Set<DeliveryState> from, DeliveryState to,
                                     Store.Change change, Fence fence) {
        Optional<OutboxEvent> e;
        try {
            e = store.transition(messageId, vm, from, to, clock.millis(), change, fence);
        } catch (Fence.LostException lost) {
            keeper.fenced(fence);
            throw lost;
        }
        e.ifPresent(x -> feed.poke());
        return e;
    }

    /** Throws {@link Fence.LostException} (and closes the channel) unless {@code fence} (null: none) holds. */
    void checkFence(Fence fence) {
        if (fence == null) {
            return;
        }
        try {
            store.checkFence(fence);
        } catch (Fence.LostException lost) {
            keeper.fenced(fence);
            throw lost;
        }
    }

    /** Ends a delivery from outside its VM's thread and lets the channel take the overlay down. */
    void finish(String messageId, String vm, Set<DeliveryState> from, DeliveryState to, Store.Change change) {
        if (transition(messageId, vm, from, to, change).isPresent()) {
            VmChannel c = channels.get(vm);
            if (c != null) {
                c.finished(messageId);
            }
        }
    }

    // ===== PRIVATE METHODS =====

    static String leaseName(String vmId) {
        return "vm:" + vmId;
    }

    /** A change anywhere in the fleet: the VM's channel, if it runs here, looks again. */
    private void changed(OutboxEvent e) {
        VmChannel c = channels.get(e.vm());
        if (c == null) {
            return;
        }
        if (e.state() == DeliveryState.QUEUED) {
            c.kick();
        } else if (e.state().isTerminal()) {
            c.finished(e.messageId());
        }
    }

    /** The lease of one VM: its channel runs here while it is held. */
    private final class VmLease implements LeaseKeeper.Holder {
        private final String vmId;

        VmLease(String vmId) {
            this.vmId = vmId;
        }

        @Override
        public void acquired(Fence fence) {
            synchronized (vmLock) {
                VmTarget target = vms.get(vmId);
                if (target == null || !started) {
                    return;
                }
                VmChannel fresh = new VmChannel(target, MessageService.this, fence);
                Map<String, VmChannel> c = new LinkedHashMap<>(channels);
                VmChannel old = c.put(vmId, fresh);
                channels = java.util.Collections.unmodifiableMap(c);
                if (old != null) {
                    old.close();
                }
                fresh.start(); // connects, reconciles with what QEMU shows, then shows what the store says
            }
        }

        @Override
        public void lost(Fence fence) {
            synchronized (vmLock) {
                VmChannel ch = channels.get(vmId);
                if (ch == null || ch.fence() == null || ch.fence().epoch() != fence.epoch()) {
                    return;
                }
                Map<String, VmChannel> c = new LinkedHashMap<>(channels);
                c.remove(vmId);
                channels = java.util.Collections.unmodifiableMap(c);
                ch.close(); // drops QMP: QEMU's monitor takes one client at a time, the next owner's
            }
        }
    }

    private void registerInFleet(VmTarget vm) {
        VmChannel old;
        synchronized (vmLock) {
            Map<String, VmTarget> v = new LinkedHashMap<>(vms);
            v.put(vm.id(), vm);
            vms = java.util.Collections.unmodifiableMap(v);
            old = channels.get(vm.id());
        }
        if (old != null) {
            new VmLease(vm.id()).acquired(old.fence()); // same lease, new target: restart the channel
        } else if (started) {
            keeper.want(leaseName(vm.id()), new VmLease(vm.id()));
        }
    }

    private void sweep() {
        try {
            for (Delivery d : store.dueForExpiry(clock.millis())) {
                finish(d.messageId(), d.vm(), DeliveryState.OPEN, DeliveryState.EXPIRED, Store.Change.NONE);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "expiry sweep failed", e);
        }
    }

    private Optional<Submitted> replay(String key, String hash) {
        Optional<Message> earlier = store.messageByIdempotencyKey(key);
        if (earlier.isEmpty()) {
            return Optional.empty();
        }
        if (!hash.equals(earlier.get().requestHash())) {
            throw new MessageException(MessageException.Kind.CONFLICT, "idempotency_conflict",
                    "Idempotency-Key " + key + " was used for a different request");
        }
        return Optional.of(new Submitted(earlier.get(), store.deliveries(earlier.get().id()), true));
    }

    private List<String> validate(NewMessage r) {
        if ((r.vms() == null) == (r.tenant() == null)) {
            throw invalid("bad_target", "give exactly one of vms (a list of VM ids) and tenant");
        }
        Set<String> targets = new LinkedHashSet<>();
        if (r.vms() != null) {
            if (r.vms().isEmpty()) {
                throw invalid("bad_target", "vms is empty");
            }
            if (r.vms().size() > NewMessage.MAX_VMS) {
                throw invalid("bad_target", "more than " + NewMessage.MAX_VMS + " VMs");
            }
            for (String vm : r.vms()) {
                if (vm == null || !vms.containsKey(vm)) {
                    throw new MessageException(MessageException.Kind.INVALID, "unknown_vm", "unknown VM " + vm);
                }
                targets.add(vm);
            }
        } else {
            for (VmTarget vm : vms.values()) {
                if (r.tenant().equals(vm.tenant())) {
                    targets.add(vm.id());
                }
            }
            if (targets.isEmpty()) {
                throw new MessageException(MessageException.Kind.INVALID, "unknown_tenant",
                        "tenant " + r.tenant() + " has no VMs");
            }
        }
        if (r.title() == null || r.title().isBlank()) {
            throw invalid("bad_title", "title is required");
        }
        if (r.title().length() > 200) {
            throw invalid("bad_title", "title longer than 200 characters");
        }
        if (r.body() == null) {
            throw invalid("bad_body", "body is required");
        }
        if (r.body().length() > 4000) {
            throw invalid("bad_body", "body longer than 4000 characters");
        }
        if (!NewMessage.SEVERITIES.contains(r.severity())) {
            throw invalid("bad_severity", "severity must be one of " + NewMessage.SEVERITIES);
        }
        if (r.buttons() == null || r.buttons().isEmpty() || r.buttons().size() > 4) {
            throw invalid("bad_buttons", "between 1 and 4 buttons are needed");
        }
        Set<String> ids = new LinkedHashSet<>();
        int cancels = 0;
        for (Button b : r.buttons()) {
            if (b == null || b.id() == null || !ID.matcher(b.id()).matches()) {
                throw invalid("bad_buttons", "a button id must be 1 to 64 of [A-Za-z0-9._-]");
            }
            if (!ids.add(b.id())) {
                throw invalid("bad_buttons", "button id " + b.id() + " is used twice");
            }
            if (b.label() == null || b.label().isBlank() || b.label().length() > 40) {
                throw invalid("bad_buttons", "a button label must have 1 to 40 characters");
            }
            if (b.cancel()) {
                cancels++;
            }
        }
        if (cancels > 1) {
            throw invalid("bad_buttons", "at most one button can be marked cancel");
        }
        if (!NewMessage.POSITIONS.contains(r.position())) {
            throw invalid("bad_position", "position must be one of " + NewMessage.POSITIONS);
        }
        if (r.ttlSeconds() < 1 || r.ttlSeconds() > NewMessage.MAX_TTL_SECONDS) {
            throw invalid("bad_ttl", "ttlSeconds must be between 1 and " + NewMessage.MAX_TTL_SECONDS);
        }
        // The renderer has the last word (e.g. a body that cannot be laid out at all).
        try {
            OverlayCommand.renderRequest(r.title(), r.body(), r.severity(), r.buttons(), 1024, 768);
        } catch (IllegalArgumentException e) {
            throw invalid("bad_message", e.getMessage());
        }
        return List.copyOf(targets);
    }

    private static MessageException invalid(String error, String detail) {
        return new MessageException(MessageException.Kind.INVALID, error, detail);
    }

    private static String requestHash(NewMessage r) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(JSON.writeValueAsString(r).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Time-ordered, unguessable: "m" + 11 hex digits of milliseconds + 12 random hex digits. */
    private static String newId(long now) {
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        return "m" + String.format("%011x", now) + HexFormat.of().formatHex(r);
    }

    /** Delivery order within a priority: monotonic across this process, roughly time-ordered across gateways. */
    private long nextSeq(long now) {
        return lastSeq.updateAndGet(prev -> Math.max(prev + 1, now * 1000));
    }
}
