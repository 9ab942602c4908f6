<?php
require __DIR__ . '/includes/config.php';
require __DIR__ . '/includes/header.php';
?>
<main>
  <h2>Contact</h2>
  <p>Write to <a href="mailto:<?= SITE_MAIL ?>"><?= SITE_MAIL ?></a>.</p>
</main>
<?php require __DIR__ . '/includes/footer.php'; ?>
