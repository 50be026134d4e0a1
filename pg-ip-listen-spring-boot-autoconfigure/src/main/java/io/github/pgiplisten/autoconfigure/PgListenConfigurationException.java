package io.github.pgiplisten.autoconfigure;

/**
 * pg-ip-listen cannot start as configured; {@link PgListenFailureAnalyzer} turns it into a description and an
 * action at start-up.
 */
public class PgListenConfigurationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String action;

    public PgListenConfigurationException(String description, String action) {
        super(description);
        this.action = action;
    }

    public PgListenConfigurationException(String description, String action, Throwable cause) {
        super(description, cause);
        this.action = action;
    }

    /** What to do about it. */
    public String action() {
        return action;
    }
}
