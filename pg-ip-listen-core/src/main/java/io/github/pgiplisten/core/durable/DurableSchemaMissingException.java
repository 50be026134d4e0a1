package io.github.pgiplisten.core.durable;

import java.util.List;

/** The durable channels' tables or function are not in the database (or not where the settings say). */
public class DurableSchemaMissingException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final List<String> missing;

    public DurableSchemaMissingException(String where, List<String> missing) {
        super("Durable channels need their tables and function, and " + where + " lacks " + String.join(", ", missing)
                + ". Create them with the script classpath:" + DurableLog.SCHEMA_SCRIPT
                + " (a Flyway or Liquibase migration, or psql), or with DurableLog.createSchema");
        this.missing = List.copyOf(missing);
    }

    /** The objects not found, as qualified names. */
    public List<String> missing() {
        return missing;
    }
}
