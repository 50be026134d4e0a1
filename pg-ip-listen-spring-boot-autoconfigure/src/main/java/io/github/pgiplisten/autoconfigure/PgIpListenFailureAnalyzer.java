package io.github.pgiplisten.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a {@link PgIpListenConfigurationException} at start-up: what is wrong and what to do. */
class PgIpListenFailureAnalyzer extends AbstractFailureAnalyzer<PgIpListenConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, PgIpListenConfigurationException cause) {
        return new FailureAnalysis(cause.getMessage(), cause.action(), cause);
    }
}
