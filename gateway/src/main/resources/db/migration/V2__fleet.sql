-- tmc store, version 2: a fleet of gateways on one database (docs/fleet.md). Portable between H2 2.x and
-- PostgreSQL 15 like version 1. Flyway records versions from now on; the hand-written runner's table goes.
drop table if exists tmc_schema_version;

-- Leases: who acts for a VM's message channel ('vm:<id>'), delivers a webhook ('webhook:<name>'), or is alive
-- ('node:<id>'). A lease is taken over only once it has expired; epoch grows with every acquisition and is the
-- fencing token, checked in the same transaction as the state change it guards. Times: epoch milliseconds.
create table tmc_lease (
    name        varchar(300)  primary key,
    owner       varchar(200)  not null,
    epoch       bigint        not null,
    expires_at  bigint        not null
);

-- The outbox's sequence: one row, updated by every writing transaction as its last step and so locked until
-- that transaction ends. Sequence numbers therefore become visible in commit order, without gaps: a reader
-- that has seen seq n has seen everything below n, on any gateway.
create table tmc_outbox_counter (
    id        int     primary key,
    last_seq  bigint  not null
);
insert into tmc_outbox_counter (id, last_seq) select 1, coalesce(max(seq), 0) from tmc_outbox;

-- Which gateway and lease epoch made a change (null: not fenced: the API, the expiry sweep).
alter table tmc_outbox add column by_node varchar(200);
alter table tmc_outbox add column by_epoch bigint;
