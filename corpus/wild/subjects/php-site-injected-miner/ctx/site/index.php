<?php
require __DIR__ . '/includes/config.php';
require __DIR__ . '/includes/header.php';
$events = [
    ['date' => '2024-03-02', 'title' => 'Spring cleanup at the river'],
    ['date' => '2024-04-13', 'title' => 'Bike repair workshop'],
];
?>
<main>
  <h2>Upcoming events</h2>
  <ul>
  <?php foreach ($events as $e): ?>
    <li><time><?= htmlspecialchars($e['date']) ?></time> <?= htmlspecialchars($e['title']) ?></li>
  <?php endforeach; ?>
  </ul>
</main>
<?php require __DIR__ . '/includes/footer.php'; ?>
