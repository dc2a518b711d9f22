package tmc.store;

/** What the tests expect of the schema. */
final class Migrations {
    /** The newest migration in src/main/resources/db/migration. */
    static final int LATEST = 4;

    private Migrations() {
    }
}
