package io.github.pgiplisten.autoconfigure.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;

/** What the JPA durable listener of {@link DurableJpaTests} writes per message. */
@Entity
public class Invoice {

    @Id
    private Long messageId;

    private String text;

    protected Invoice() {}

    public Invoice(Long messageId, String text) {
        this.messageId = messageId;
        this.text = text;
    }

    public Long getMessageId() {
        return messageId;
    }

    public String getText() {
        return text;
    }
}
