-- tmc store, version 4: console and event-stream tickets, shared by the gateways of a fleet (docs/fleet.md), so
-- that a WebSocket a load balancer sends to any gateway is admitted once. tkey: SHA-256 of the ticket (hex);
-- principal: issuer, tenant and subject (for the per-user bound); claims: the token's claims as JSON; expires_at:
-- epoch milliseconds.
create table tmc_ticket (
    tkey        varchar(64)    primary key,
    principal   varchar(1200)  not null,
    claims      varchar(16000) not null,
    purpose     varchar(20)    not null,
    vm          varchar(64),
    origin      varchar(300),
    expires_at  bigint         not null
);
create index tmc_ticket_principal on tmc_ticket (principal);
create index tmc_ticket_expires on tmc_ticket (expires_at);

-- Live browser sessions of the fleet, for the per-token, per-user and per-VM caps (docs/fleet.md): one row per
-- session, removed when it ends; rows of a gateway whose node lease has expired are not counted (a killed gateway's),
-- and are removed when that gateway starts again.
create table tmc_session (
    id          varchar(32)    primary key,
    node        varchar(200)   not null,
    vm_id       varchar(64)    not null,
    principal   varchar(1200)  not null,
    token_id    varchar(100)   not null,
    started     bigint         not null
);
create index tmc_session_node on tmc_session (node);
