-- tmc store, version 3: the revocation deny-list, shared by the gateways of a fleet (docs/fleet.md).
-- key: what is denied (a principal, a token id, an issuer's jti); at: for a principal, tokens issued at or before
-- it are denied; until: when the entry may be forgotten. Epoch milliseconds.
create table tmc_revocation (
    rkey   varchar(1200)  primary key,
    at     bigint         not null,
    until  bigint         not null
);
create index tmc_revocation_until on tmc_revocation (until);

-- Single-use token ids (jti) spent anywhere in the fleet, kept until the token expires; jkey: issuer NUL jti
-- (stored with the NUL replaced, PostgreSQL text holds none).
create table tmc_jti (
    jkey   varchar(1200)  primary key,
    until  bigint         not null
);
