<?php
declare(strict_types=1);

$sent = false;
$errors = [];
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $name = trim((string)($_POST['name'] ?? ''));
    $email = filter_var($_POST['email'] ?? '', FILTER_VALIDATE_EMAIL);
    $message = trim((string)($_POST['message'] ?? ''));
    if ($name === '') {
        $errors[] = 'Please tell us your name.';
    }
    if ($email === false) {
        $errors[] = 'Please give a valid e-mail address.';
    }
    if (strlen($message) < 10) {
        $errors[] = 'Your message is a little short.';
    }
    if (!$errors) {
        $line = sprintf("%s\t%s\t%s\t%s\n", date('c'), $name, $email, str_replace(["\r", "\n"], ' ', $message));
        file_put_contents(SITE_SPOOL . '/messages.tsv', $line, FILE_APPEND | LOCK_EX);
        $sent = true;
    }
}
?>
<?php if ($sent): ?>
<p>Thank you, we will answer within two working days.</p>
<?php else: ?>
<?php foreach ($errors as $e): ?><p class="error"><?= htmlspecialchars($e) ?></p><?php endforeach; ?>
<form method="post" action="?page=contact">
  <label>Name <input name="name" required></label>
  <label>E-mail <input name="email" type="email" required></label>
  <label>Message <textarea name="message" rows="5" required></textarea></label>
  <button type="submit">Send</button>
</form>
<?php endif; ?>
