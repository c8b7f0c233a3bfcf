"""ROS 2 adapters: the carrier over DDS, the runtime that hosts agents as rclpy nodes, and the nodes.

This is the only layer that imports rclpy.
"""
