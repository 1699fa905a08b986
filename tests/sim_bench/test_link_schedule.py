"""The link model's scheduler: when bytes written on one side of a simulated USB link arrive on the other."""
import pytest

from hil.sim.link_model import LinkModel

FRAME_S = 0.001
FRAME_BYTES = 64 * 19


def usb_fs_schedule():
    return LinkModel.usb_fs().new_schedule()


def test_usb_fs_defaults_are_full_speed_bulk_timing():
    model = LinkModel.usb_fs()
    assert (model.frame_period_s, model.packets_per_frame, model.packet_size_bytes) == (0.001, 19, 64)
    assert model.frame_capacity_bytes == 1216
    assert model.max_throughput_bytes_per_s == pytest.approx(1_216_000)


def test_a_byte_is_delivered_at_the_next_frame_boundary():
    schedule = usb_fs_schedule()
    assert schedule.submit(0.0103, 1) == [(pytest.approx(0.011), 1)]


def test_a_byte_arriving_exactly_on_a_boundary_waits_for_the_following_one():
    schedule = usb_fs_schedule()
    (deliver_at_s, _), = schedule.submit(0.005, 1)
    assert deliver_at_s == pytest.approx(0.006)


def test_a_large_write_is_spread_over_frames_at_most_one_frame_capacity_each():
    schedule = usb_fs_schedule()
    deliveries = schedule.submit(0.0, 5000)
    assert [size for _, size in deliveries] == [1216, 1216, 1216, 1216, 136]
    assert [at for at, _ in deliveries] == pytest.approx([0.001, 0.002, 0.003, 0.004, 0.005])
    assert sum(size for _, size in deliveries) == 5000


def test_later_bytes_queue_behind_earlier_ones_and_fill_the_partly_used_frame():
    schedule = usb_fs_schedule()
    schedule.submit(0.0, 2000)                      # frame 1: 1216, frame 2: 784
    deliveries = schedule.submit(0.0015, 1000)      # would be due at frame 2; 432 bytes still fit there
    assert deliveries == [(pytest.approx(0.002), 432), (pytest.approx(0.003), 568)]


def test_bytes_after_an_idle_gap_are_not_held_back_by_old_traffic():
    schedule = usb_fs_schedule()
    schedule.submit(0.0, 10)
    assert schedule.submit(0.0502, 10) == [(pytest.approx(0.051), 10)]


def test_each_change_of_direction_costs_at_least_one_frame():
    to_board, to_host = usb_fs_schedule(), usb_fs_schedule()
    sent_s = 0.0207
    (arrives_at_board_s, _), = to_board.submit(sent_s, 1)
    (reply_at_host_s, _), = to_host.submit(arrives_at_board_s, 1)   # the board answers at once
    assert arrives_at_board_s > sent_s
    assert reply_at_host_s - sent_s >= FRAME_S


def test_sustained_traffic_is_capped_near_the_full_speed_ceiling():
    schedule = usb_fs_schedule()
    deliveries = []
    for index in range(1000):                       # 64 KB written in 64-byte pieces every 10 us
        deliveries += schedule.submit(index * 0.00001, 64)
    duration_s = deliveries[-1][0] - 0.0
    assert 64_000 / duration_s <= LinkModel.usb_fs().max_throughput_bytes_per_s * 1.001


def test_a_configured_model_uses_its_own_frame_and_packet_sizes():
    schedule = LinkModel("custom", 0.002, 2, 8).new_schedule()
    assert schedule.submit(0.0, 40) == [(pytest.approx(0.002), 16), (pytest.approx(0.004), 16),
                                        (pytest.approx(0.006), 8)]


def test_no_model_delivers_immediately_in_one_piece():
    schedule = LinkModel.none().new_schedule()
    assert schedule.submit(1.2345, 100_000) == [(1.2345, 100_000)]
    assert not LinkModel.from_name("none").enabled


def test_reset_forgets_queued_traffic():
    schedule = usb_fs_schedule()
    schedule.submit(0.0, 100_000)
    schedule.reset()
    assert schedule.submit(0.0, 1) == [(pytest.approx(0.001), 1)]


def test_unknown_model_names_and_impossible_parameters_are_rejected():
    with pytest.raises(ValueError, match="unknown link model"):
        LinkModel.from_name("usb-hs")
    with pytest.raises(ValueError):
        LinkModel("broken", 0.001, 0, 64)
