package io.github.pgiplisten.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a {@link PgListenConfigurationException} at start-up: what is wrong and what to do. */
class PgListenFailureAnalyzer extends AbstractFailureAnalyzer<PgListenConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, PgListenConfigurationException cause) {
        return new FailureAnalysis(cause.getMessage(), cause.action(), cause);
    }
}
