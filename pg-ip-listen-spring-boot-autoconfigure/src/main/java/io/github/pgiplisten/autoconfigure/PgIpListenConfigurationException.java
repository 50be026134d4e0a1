package io.github.pgiplisten.autoconfigure;

/**
 * pg-ip-listen cannot start as configured; {@link PgIpListenFailureAnalyzer} turns it into a description and an
 * action at start-up.
 */
public class PgIpListenConfigurationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String action;

    public PgIpListenConfigurationException(String description, String action) {
        super(description);
        this.action = action;
    }

    public PgIpListenConfigurationException(String description, String action, Throwable cause) {
        super(description, cause);
        this.action = action;
    }

    /** What to do about it. */
    public String action() {
        return action;
    }
}
