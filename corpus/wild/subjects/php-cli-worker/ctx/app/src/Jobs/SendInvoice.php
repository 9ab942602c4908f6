<?php
declare(strict_types=1);

final class SendInvoice
{
    public function handle(array $p): void
    {
        foreach (['invoice_id', 'email', 'total_cents'] as $k) {
            if (!isset($p[$k])) {
                throw new InvalidArgumentException("missing $k");
            }
        }
        $body = sprintf("Invoice %s\nTotal: %.2f EUR\n", $p['invoice_id'], $p['total_cents'] / 100);
        $out = (getenv('OUTBOX') ?: sys_get_temp_dir()) . "/invoice-{$p['invoice_id']}.eml";
        file_put_contents($out, "To: {$p['email']}\nSubject: Your invoice\n\n$body");
    }
}
